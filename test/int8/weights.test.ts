// Per-output-channel int8 weights: every dequantized weight lies within half a step of the original.

import assert from "node:assert/strict";
import { test } from "node:test";
import { dequantizePerChannel, quantizePerChannel } from "../../packages/glide-ts/src/int8/weights.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

test("per-channel quantization round-trips within scale/2, with one scale per output channel", () => {
  const rng = new Rng(3);
  const channels = 4;
  const per = 3 * 3 * 5;
  // Channels of very different magnitudes: one shared scale would flatten the small ones.
  const magnitudes = [1e-3, 0.05, 1, 40];
  const weights = Float32Array.from(
    { length: channels * per },
    (_, i) => rng.normal() * magnitudes[Math.floor(i / per)]!,
  );
  const q = quantizePerChannel(weights, channels);
  const back = dequantizePerChannel(q);
  for (let c = 0; c < channels; c++) {
    const row = weights.subarray(c * per, (c + 1) * per);
    const absMax = Math.max(...Array.from(row, Math.abs));
    assert.ok(Math.abs(q.scales[c]! - absMax / 127) <= 1e-6 * absMax, `channel ${c}: scale is max|w| / 127`);
    for (let i = c * per; i < (c + 1) * per; i++) {
      assert.ok(Math.abs(back[i]! - weights[i]!) <= q.scales[c]! / 2 + 1e-7 * absMax, `weight ${i} within scale/2`);
      assert.ok(q.values[i]! >= -127 && q.values[i]! <= 127);
    }
    assert.equal(
      Math.max(...Array.from(q.values.subarray(c * per, (c + 1) * per), Math.abs)),
      127,
      "the largest weight maps to ±127",
    );
  }
});

test("an all-zero channel (a zero-initialized layer) gets a positive scale and zero values", () => {
  const q = quantizePerChannel(new Float32Array([0, 0, 0, 0.5, -1, 0.25]), 2);
  assert.deepEqual(Array.from(q.values.subarray(0, 3)), [0, 0, 0]);
  assert.ok(q.scales[0]! > 0);
  assert.deepEqual(Array.from(q.values.subarray(3)), [64, -127, 32]);
  assert.throws(() => quantizePerChannel(new Float32Array(5), 2), /do not split into 2 channels/);
});
