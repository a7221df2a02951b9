// The int8 U-Net of a small model: the quantized graph exports and runs, its convs carry QDQ pairs
// (except those the plan keeps fp32), its output stays close to fp32, and autodiff refuses it.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { topologicalOrder } from "../../packages/glide-ts/src/graph/traverse.ts";
import { relativeError } from "../../packages/glide-ts/src/int8/output-error.ts";
import { int8Rewrite } from "../../packages/glide-ts/src/int8/quantize-graph.ts";
import { quantizableSites } from "../../packages/glide-ts/src/int8/sites.ts";
import { calibrationFeeds } from "../../packages/glide-ts/src/int8/unet-plan.ts";
import { int8PlanOf } from "../../packages/glide-ts/src/pipelines/int8-plan.ts";
import { textFeeds } from "../../packages/glide-ts/src/pipelines/text-features.ts";
import { fixtureModel } from "../pipelines/helpers.ts";

/** Bound on the relative error of the predicted noise, int8 against fp32 (measured: ~1–3 %). */
const MAX_RELATIVE_ERROR = 0.08;

test("the int8 U-Net exports, runs and stays within 8 % of fp32 on the fixture model", async () => {
  const model = await fixtureModel("text2im");
  const plan = await int8PlanOf(model, { threads: 1 });
  assert.equal(plan.calibration.perRun.length, plan.timesteps.length, "one calibration run per timestep");
  for (const [site, db] of plan.sqnr) assert.ok(!Number.isNaN(db), `SQNR of ${site} is a number`);

  const sites = quantizableSites(Object.values(model.unetGraph(2).outputs));
  assert.deepEqual(new Set(sites.map((s) => s.name)), new Set(plan.ranges.keys()), "every layer was calibrated");
  const count = (kind: string) => sites.filter((s) => s.kind === kind && !plan.keepFp32.has(s.name)).length;
  assert.ok(count("conv") > 0 && count("pointwise") > 0, "convs and attention projections are quantized");
  const ops = topologicalOrder(Object.values(model.unetGraph(2, { rewrite: int8Rewrite(plan) }).outputs)).map(
    (t) => t.op.name,
  );
  const quantized = count("conv") + count("pointwise");
  // Per quantized layer: input and output activations (Q + DQ each), DQ of the weight, and of the
  // bias for convs (a pointwise layer adds its bias after the product).
  assert.equal(ops.filter((op) => op === "quantizeLinear").length, 2 * quantized);
  assert.equal(ops.filter((op) => op === "dequantizeLinear").length, 3 * quantized + count("conv"));
  const convs = sites.filter((s) => s.kind === "conv").length;
  assert.equal(
    ops.filter((op) => op === "conv2d").length,
    convs + count("pointwise"),
    "pointwise layers become 1×1 convs",
  );

  const fp32 = await model.compileUNet(2, { threads: 1 });
  const int8 = await model.compileUNet(2, { threads: 1, rewrite: int8Rewrite(plan) });
  const conditioning = await textFeeds(model, ["a red heart", ""], [0, 1]);
  // Inputs the calibration did not see: another seed, other timesteps.
  const { feeds } = calibrationFeeds(model, { batch: 2, conditioning, seed: 42, timesteps: [900, 400, 50] });
  const shape = fp32.outputs[0]!.shape;
  for (const feed of feeds) {
    const a = (await fp32.run(feed)).out as Float32Array;
    const b = (await int8.run(feed)).out as Float32Array;
    const error = relativeError(a, b, shape);
    assert.ok(error > 0, "int8 is not fp32 in disguise");
    assert.ok(error < MAX_RELATIVE_ERROR, `relative error ${error.toFixed(4)} at t=${feed.timesteps![0]}`);
  }
  await fp32.release();
  await int8.release();
});

test("autodiff refuses the int8 graph's ops by name", async () => {
  const x = g.input("x", [1, 2, 4, 4]);
  const scale = g.constant(0.1);
  const zero = g.constant(new Uint8Array([128]), [], "uint8");
  const y = g.dequantizeLinear(g.quantizeLinear(x, scale, zero), scale, zero);
  assert.throws(() => g.gradients(g.sum(y), [x]), /op 'dequantizeLinear' is inference-only \(int8 quantization\)/);
  const scales = g.constant([0.1, 0.2]);
  const zeros = g.constant(new Uint8Array([1, 2]), [2], "uint8");
  assert.throws(() => g.quantizeLinear(x, scales, zeros), /per-tensor scale must be a scalar/);
  assert.throws(() => g.quantizeLinear(x, scales, zeros, 2), /per-channel scale along axis 2 .* must be \[4\]/);
  assert.throws(() => g.quantizeLinear(x, scales, zero, 1), /scale \[2\] and zero point \[\] differ in shape/);
  assert.ok(g.quantizeLinear(x, scales, zeros, 1).dtype === "uint8", "per channel along axis 1 fits");
});
