// The projection that keeps an upsampler's output consistent with its low-res input: block means
// against hand-computed values, the projection's block means equal to the target, the detail
// within each block kept, and the hooks the sampler is given.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  blockMeans,
  lowResConsistency,
  projectOntoLowRes,
} from "../../packages/glide-ts/src/diffusion/low-res-consistency.ts";

test("blockMeans averages each f×f block of every plane", () => {
  // One plane, 4×4, factor 2.
  const x = Float32Array.from([1, 2, 5, 6, 3, 4, 7, 8, -1, -1, 0, 0, -1, -1, 0, 1]);
  assert.deepEqual([...blockMeans(x, 4, 2)], [2.5, 6.5, -1, 0.25]);
  // Two planes: each its own means.
  const two = Float32Array.from([...x, ...x.map((v) => v * 2)]);
  assert.deepEqual([...blockMeans(two, 4, 2)], [2.5, 6.5, -1, 0.25, 5, 13, -2, 0.5]);
});

test("the projection's block means are the target, and the detail within each block is kept", () => {
  const size = 8;
  const factor = 4;
  const planes = 6; // two images of three channels
  const x = Float32Array.from({ length: planes * size * size }, (_, i) => Math.sin(i * 1.7) * 0.8);
  const target = Float32Array.from({ length: planes * 4 }, (_, i) => Math.cos(i) * 0.5);
  const y = projectOntoLowRes(x, target, size, factor);
  const means = blockMeans(y, size, factor);
  for (let i = 0; i < target.length; i++) assert.ok(Math.abs(means[i]! - target[i]!) < 1e-6, `block ${i}`);
  // x − up(down x) is unchanged: y − x is constant over each block.
  const before = blockMeans(x, size, factor);
  for (let p = 0; p < planes; p++)
    for (let r = 0; r < size; r++)
      for (let c = 0; c < size; c++) {
        const i = p * size * size + r * size + c;
        const block = p * 4 + Math.floor(r / factor) * 2 + Math.floor(c / factor);
        assert.ok(Math.abs(y[i]! - x[i]! - (target[block]! - before[block]!)) < 1e-6);
      }
  // Projecting twice changes nothing.
  const again = projectOntoLowRes(y, target, size, factor);
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(again[i]! - y[i]!) < 1e-6);
  assert.throws(
    () => projectOntoLowRes(x, target.subarray(1), size, factor),
    /low-res target has 23 values, expected 24/,
  );
});

test("the hooks project every x₀, leave x_t alone, and make the final sample consistent and in [-1, 1]", () => {
  const lowRes = Float32Array.from([0.5, -0.25, 1, 0]); // four planes, each 1×1 at low res and 2×2 sampled
  const hooks = lowResConsistency(lowRes, 1, 2);
  const x = Float32Array.from({ length: 16 }, (_, i) => (i % 4) * 0.1);
  const projected = hooks.denoisedFn(Float32Array.from(x), 10);
  assert.deepEqual(
    [...blockMeans(projected, 2, 2)].map((v) => Math.round(v * 1e3) / 1e3 + 0),
    [0.5, -0.25, 1, 0],
  );
  assert.equal(hooks.xtFn(x, 10), x, "x_t is returned as it is");
  const last = hooks.xtFn(x, null);
  assert.ok(
    last.every((v) => v >= -1 && v <= 1),
    "the final sample is clamped to [-1, 1]",
  );
  // The third plane's target is 1: projection and clamp alternate until the block is white.
  assert.ok(
    last.subarray(8, 12).every((v) => v >= 0.9995),
    `white: ${[...last.subarray(8, 12)]}`,
  );
  // Where both constraints leave room, the detail about the block mean is kept.
  assert.deepEqual(
    [...last.subarray(0, 4)].map((v) => Math.round(v * 1e6) / 1e6),
    [0.35, 0.45, 0.55, 0.65],
  );
  assert.ok(Math.abs(blockMeans(last, 2, 2)[2]! - 1) <= 1e-4);
  assert.throws(() => lowResConsistency(lowRes, 3, 8), /must divide/);
});
