// The x_t hook of the sampling loop and renoiseKnownRegion: inpainting with a model that takes no
// mask, by pasting the known region, diffused to the current step, into x_t before every evaluation.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createDiffusion, GaussianDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import { renoiseKnownRegion } from "../../packages/glide-ts/src/diffusion/inpaint.ts";
import type { EpsModel, XtFn } from "../../packages/glide-ts/src/diffusion/model.ts";
import { sample } from "../../packages/glide-ts/src/diffusion/sample.ts";
import { createSampler, SAMPLER_NAMES } from "../../packages/glide-ts/src/diffusion/samplers/index.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

const base = createDiffusion({ noiseSchedule: "squaredcos_cap_v2", diffusionSteps: 1000 });
const shape = [2, 3, 2, 2];
const image = new Float32Array(24).map((_, i) => (i - 12) / 16);
const mask = new Float32Array([1, 0, 0, 1, 0, 1, 1, 0]); // [2, 1, 2, 2]
const KEPT = [
  [0, 3],
  [1, 2],
];

/** A stand-in network: any eps that depends on x and t, with a variance value. */
const model: EpsModel = async (x, t) => ({
  eps: x.map((v, i) => 0.6 * v + ((i % 5) - 2) * 0.05 + t / 5000),
  v: new Float32Array(x.length).fill(0.3),
});

test("the x_t hook sees every evaluation's x_t and its timestep, then the final sample with null", async () => {
  const seen: Array<number | null> = [];
  const evaluated: number[] = [];
  const xtFn: XtFn = (x, t) => {
    seen.push(t);
    return x;
  };
  const sampler = createSampler(base, { name: "ddim", steps: 5 });
  await sample({
    sampler,
    model: async (x, t, s) => {
      evaluated.push(t);
      return model(x, t, s);
    },
    shape,
    rng: new Rng(1),
    xtFn,
  });
  assert.deepEqual(seen, [...sampler.timesteps, null]);
  assert.deepEqual(evaluated, [...sampler.timesteps]);
});

test("with zero noise, the model sees √ᾱ_t · image in the known region, and the result ends with the image", async () => {
  const zeros = (n: number) => new Float32Array(n);
  for (const name of SAMPLER_NAMES) {
    const inputs: Array<{ t: number; x: Float32Array }> = [];
    const result = await sample({
      sampler: createSampler(base, { name, steps: 6 }),
      model: async (x, t, s) => {
        inputs.push({ t, x });
        return model(x, t, s);
      },
      shape,
      rng: new Rng(2),
      xtFn: renoiseKnownRegion(base, image, mask, shape, zeros),
    });
    for (const { t, x } of inputs) {
      const scale = base.sqrtAlphasCumprod[t];
      for (let n = 0; n < 2; n++)
        for (let c = 0; c < 3; c++)
          for (const p of KEPT[n]) {
            const i = (n * 3 + c) * 4 + p;
            assert.ok(
              Math.abs(x[i] - scale * image[i]) < 1e-6,
              `${name}, t=${t}: known value ${x[i]} vs ${scale * image[i]}`,
            );
          }
    }
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++)
        for (const p of KEPT[n]) {
          const i = (n * 3 + c) * 4 + p;
          assert.equal(result[i], image[i], `${name}: kept value of image ${n}, channel ${c}, pixel ${p}`);
        }
  }
});

test("re-noised known region: q_sample noise at every step; the unknown region is the sampler's own", async () => {
  const run = (seed: number, withHook: boolean) => {
    const rng = new Rng(seed);
    return sample({
      sampler: createSampler(base, { name: "ddpm", steps: 8 }),
      model,
      shape,
      rng,
      xtFn: withHook ? renoiseKnownRegion(base, image, mask, shape, (n) => rng.normalArray(n)) : undefined,
    });
  };
  const a = await run(5, true);
  const b = await run(5, true);
  assert.deepEqual(a, b, "same seed, same result");
  const plain = await run(5, false);
  const differs = a.some((v, i) => v !== plain[i]);
  assert.ok(differs, "the hook changes the sample");
});

test("renoiseKnownRegion needs the unrespaced process and a matching mask", () => {
  const respaced = GaussianDiffusion.fromSchedule("linear", 1000, "10");
  assert.throws(() => renoiseKnownRegion(respaced, image, mask, shape, (n) => new Float32Array(n)), /unrespaced/);
  assert.throws(() => renoiseKnownRegion(base, image, new Float32Array(5), shape, (n) => new Float32Array(n)), /mask/);
});
