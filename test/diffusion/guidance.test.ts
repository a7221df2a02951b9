// Classifier-free guidance as GLIDE combines it, on small hand-worked examples.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import {
  classifierFreeGuidance,
  combineGuidance,
  epsVarianceModel,
  guideModelOutput,
  joinEpsVariance,
  splitEpsVariance,
} from "../../packages/glide-ts/src/diffusion/guidance.ts";
import { forceKnownRegion } from "../../packages/glide-ts/src/diffusion/inpaint.ts";
import { sample } from "../../packages/glide-ts/src/diffusion/sample.ts";
import { createSampler } from "../../packages/glide-ts/src/diffusion/samplers/index.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

// Batch [cond, uncond] of 1 image with C = 1 channel of 2 pixels: 2C = 2 output channels,
// laid out per image as [eps (2 values), v (2 values)].
const cond = { eps: [1, 2], v: [0.1, 0.2] };
const uncond = { eps: [0, 4], v: [-0.5, 0.5] };
const raw = new Float32Array([...cond.eps, ...cond.v, ...uncond.eps, ...uncond.v]);

test("the 6-channel layout splits into eps and v per image, and joins back", () => {
  const { eps, v } = splitEpsVariance(raw, 2);
  assert.deepEqual([...eps], [1, 2, 0, 4]);
  assert.deepEqual([...v], [0.1, 0.2, -0.5, 0.5].map(Math.fround));
  assert.deepEqual(joinEpsVariance(eps, v, 2), raw);
  assert.throws(() => splitEpsVariance(raw, 3), /does not split/);
});

test("eps = uncond + s (cond − uncond), worked by hand for s = 3", () => {
  // pixel 0: 0 + 3 (1 − 0) = 3; pixel 1: 4 + 3 (2 − 4) = −2
  assert.deepEqual([...combineGuidance(new Float32Array([1, 2, 0, 4]), 3)], [3, -2]);
  // s = 1 is the conditional model, s = 0 the unconditional one.
  assert.deepEqual([...combineGuidance(new Float32Array([1, 2, 0, 4]), 1)], [1, 2]);
  assert.deepEqual([...combineGuidance(new Float32Array([1, 2, 0, 4]), 0)], [0, 4]);
});

test("guideModelOutput is GLIDE's model_fn: guided eps in both halves, variance channels unchanged", () => {
  const out = guideModelOutput(raw, 2, 3);
  assert.deepEqual([...out], [3, -2, ...cond.v, 3, -2, ...uncond.v].map(Math.fround));
});

test("classifierFreeGuidance runs the network on [x, x] and returns the guided eps with the conditional v", async () => {
  const x = new Float32Array([0.5, -0.5]);
  const seen: { x: number[]; t: number; shape: readonly number[] }[] = [];
  const model = classifierFreeGuidance(async (input, t, shape) => {
    seen.push({ x: [...input], t, shape });
    return raw;
  }, 3);
  const out = await model(x, 123, [1, 1, 1, 2]);
  assert.deepEqual(seen, [{ x: [0.5, -0.5, 0.5, -0.5], t: 123, shape: [2, 1, 1, 2] }]);
  assert.deepEqual([...out.eps], [3, -2]);
  assert.deepEqual([...out.v!], cond.v.map(Math.fround));

  const unguided = await epsVarianceModel(async () => raw)(new Float32Array(4), 5, [2, 1, 1, 2]);
  assert.deepEqual([...unguided.eps], [1, 2, 0, 4]);
});

test("guided inpainting end to end: the known region of the result is the source image", async () => {
  // A stand-in network with a 6-channel output whose halves differ, so guidance matters.
  const network = async (x: Float32Array, t: number, shape: readonly number[]) => {
    const [n2, c, h, w] = shape;
    const plane = c * h * w;
    const out = new Float32Array(n2 * 2 * plane);
    for (let n = 0; n < n2; n++) {
      const sign = n < n2 / 2 ? 1 : -1; // conditional vs unconditional half
      for (let i = 0; i < plane; i++) {
        out[n * 2 * plane + i] = 0.5 * x[n * plane + i] + sign * 0.1 + t / 4000; // eps
        out[n * 2 * plane + plane + i] = 0.25; // v
      }
    }
    return out;
  };
  const shape = [1, 3, 2, 2];
  const image = new Float32Array(12).map((_, i) => (i - 6) / 8);
  const mask = new Float32Array([1, 0, 0, 1]); // [1, 1, 2, 2], keep two pixels
  const diffusion = createDiffusion({ noiseSchedule: "squaredcos_cap_v2", diffusionSteps: 1000 });
  for (const name of ["ddpm", "ddim", "plms", "dpm++2m"] as const) {
    const result = await sample({
      sampler: createSampler(diffusion, { name, steps: 8 }),
      model: classifierFreeGuidance(network, 4),
      shape,
      rng: new Rng(9),
      denoisedFn: forceKnownRegion(image, mask, shape),
    });
    for (let c = 0; c < 3; c++) {
      for (const p of [0, 3])
        assert.equal(result[c * 4 + p], image[c * 4 + p], `${name}: kept pixel ${p} of channel ${c}`);
    }
    assert.ok(
      result.every((v) => v >= -1 && v <= 1),
      `${name}: clipped to [-1, 1]`,
    );
  }
});
