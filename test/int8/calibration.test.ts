// Calibration records each conv's input and output range exactly, per run and as their union; the
// activation scale and zero point follow from a range.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { activationQuantization } from "../../packages/glide-ts/src/int8/activation.ts";
import { calibrate } from "../../packages/glide-ts/src/int8/calibrate.ts";

test("calibration ranges of a known input are the exact min and max of each conv's input and output", async () => {
  // x → 1×1 conv (weight 2, bias 1) → 1×1 conv (weight −3, no bias): ranges computable by hand.
  const x = g.input("x", [1, 1, 2, 2]);
  const first = g.conv2d(
    x,
    g.param("a.weight", [1, 1, 1, 1], new Float32Array([2])),
    g.param("a.bias", [1], new Float32Array([1])),
  );
  const second = g.conv2d(first, g.param("b.weight", [1, 1, 1, 1], new Float32Array([-3])), null);
  const runs = [{ x: new Float32Array([-1, 0.5, 2, 0]) }, { x: new Float32Array([3, 1, 1, 1]) }];
  const result = await calibrate({ out: second }, runs);
  assert.deepEqual(result.sites, ["a", "b"]);
  assert.deepEqual(result.perRun[0]!.get("a"), { input: [-1, 2], output: [-1, 5] });
  assert.deepEqual(result.perRun[0]!.get("b"), { input: [-1, 5], output: [-15, 3] });
  assert.deepEqual(result.perRun[1]!.get("a"), { input: [1, 3], output: [3, 7] });
  assert.deepEqual(result.ranges.get("a"), { input: [-1, 3], output: [-1, 7] }, "the union over runs");
  assert.deepEqual(result.ranges.get("b"), { input: [-1, 7], output: [-21, 3] });
});

test("activation scale and zero point: uint8 over the range widened to hold 0", () => {
  assert.deepEqual(activationQuantization([-0.5, 2]), { scale: 2.5 / 255, zeroPoint: 51 });
  const positive = activationQuantization([1, 5.1]);
  assert.equal(positive.zeroPoint, 0, "a positive range starts at 0 so that zero padding is exact");
  assert.ok(Math.abs(positive.scale - 0.02) < 1e-12);
  assert.equal(activationQuantization([-4, -2]).zeroPoint, 255);
  assert.deepEqual(activationQuantization([0, 0]), { scale: 1, zeroPoint: 0 });
});
