// How each sampler applies a guidance gradient: DDPM's mean shift (condition_mean) and the score
// form (condition_score) of DDIM, PLMS and DPM-Solver++, each against the formula written out.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  conditionEps,
  conditionMean,
  conditionScore,
  withGradient,
} from "../../packages/glide-ts/src/diffusion/condition.ts";
import { GaussianDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import type { EpsModel } from "../../packages/glide-ts/src/diffusion/model.ts";
import { spaceTimesteps } from "../../packages/glide-ts/src/diffusion/respace.ts";
import { sample } from "../../packages/glide-ts/src/diffusion/sample.ts";
import { createSampler, ddimStep, type SamplerName } from "../../packages/glide-ts/src/diffusion/samplers/index.ts";
import { betaSchedule } from "../../packages/glide-ts/src/diffusion/schedule.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

const base = new GaussianDiffusion(betaSchedule("squaredcos_cap_v2", 1000));
const shape = [1, 3, 4, 4];
const size = 48;
const rng = new Rng(3);
const x = rng.normalArray(size);
const eps = Float32Array.from(rng.normalArray(size), (v) => 0.9 * v);
const v = Float32Array.from(rng.normalArray(size), (u) => Math.tanh(u));
const grad = Float32Array.from(rng.normalArray(size), (u) => 0.3 * u);
const z = rng.normalArray(size);
const xStart = { clipDenoised: true };

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test("DDPM: x_{t−1} = mean + exp(log variance) · grad + σ z", () => {
  const process = base.respace(spaceTimesteps(1000, "3"));
  const sampler = createSampler(base, { name: "ddpm", steps: "3" });
  const step = sampler.step({ x, output: { eps, v, grad }, index: 0, noise: () => z, xStart });
  const t = process.numTimesteps - 1;
  const p = process.pMeanVariance(x, t, { eps, v }, xStart);
  const mean = conditionMean(p.mean, p.logVariance, grad);
  close(
    mean,
    Float32Array.from(p.mean, (m, i) => m + Math.exp(p.logVariance[i]!) * grad[i]!),
  );
  close(
    step.sample,
    Float32Array.from(mean, (m, i) => m + Math.exp(0.5 * p.logVariance[i]!) * z[i]!),
  );
  close(step.predXStart, p.predXStart, 0);
  const last = createSampler(base, { name: "ddpm", steps: "1" });
  const final = last.step({ x, output: { eps, v, grad }, index: 0, noise: () => z, xStart });
  const p0 = base.respace(spaceTimesteps(1000, "1")).pMeanVariance(x, 0, { eps, v }, xStart);
  close(final.sample, conditionMean(p0.mean, p0.logVariance, grad), 0);
});

test("DDIM: the score form on the ε of the clipped x₀, as the reference's condition_score", () => {
  const sampler = createSampler(base, { name: "ddim", steps: "4" });
  const process = base.respace(spaceTimesteps(1000, "4"));
  const t = 3;
  const step = sampler.step({ x, output: { eps, grad }, index: 0, noise: () => z, xStart });
  const clipped = process.processXStart(process.predictXStartFromEps(x, t, eps), t, xStart);
  const alphaBar = process.alphasCumprod[t]!;
  const shiftedEps = Float32Array.from(
    process.predictEpsFromXStart(x, t, clipped),
    (e, i) => e - Math.sqrt(1 - alphaBar) * grad[i]!,
  );
  const predXStart = process.predictXStartFromEps(x, t, shiftedEps);
  close(step.predXStart, predXStart, 1e-5);
  close(conditionScore(process, x, t, clipped, grad), predXStart, 0);
  const expected = ddimStep(process, x, process.predictEpsFromXStart(x, t, predXStart), t, { clipDenoised: false });
  close(step.sample, expected.sample, 1e-5);
});

test("PLMS: each evaluation's ε is shifted with ᾱ of the step it was evaluated at", () => {
  const steps = "5";
  const guided = createSampler(base, { name: "plms", steps });
  const plain = createSampler(base, { name: "plms", steps });
  const process = base.respace(spaceTimesteps(1000, steps));
  const K = process.numTimesteps;
  const evaluatedAt = [K - 1, K - 2, K - 2, K - 3, K - 4, K - 5];
  let state = x;
  for (let index = 0; index < guided.timesteps.length; index++) {
    assert.equal(process.timestepMap[evaluatedAt[index]!], guided.timesteps[index]);
    const a = guided.step({ x: state, output: { eps, grad }, index, noise: () => z, xStart });
    const shifted = conditionEps(process, evaluatedAt[index]!, eps, grad);
    const b = plain.step({ x: state, output: { eps: shifted }, index, noise: () => z, xStart });
    close(a.sample, b.sample, 0);
    state = a.sample;
  }
});

test("DPM-Solver++: its first (first-order) step with a gradient is DDIM's", () => {
  const dpm = createSampler(base, { name: "dpm++2m", steps: "ddim4" });
  const ddim = createSampler(base, { name: "ddim", steps: "ddim4" });
  const a = dpm.step({ x, output: { eps, grad }, index: 0, noise: () => z, xStart });
  const b = ddim.step({ x, output: { eps, grad }, index: 0, noise: () => z, xStart });
  close(a.sample, b.sample, 1e-5);
  close(a.predXStart, b.predXStart, 0);
});

for (const name of ["ddpm", "ddim", "plms", "dpm++2m"] as SamplerName[]) {
  test(`${name}: the gradient is taken at the x_t the model saw, with the original timestep; zero changes ~nothing`, async () => {
    const model: EpsModel = async (input) => ({
      eps: Float32Array.from(input, (u) => 0.5 * u),
      v: new Float32Array(size),
    });
    const seen: [number, Float32Array][] = [];
    const gradient = async (input: Float32Array, t: number) => {
      seen.push([t, input]);
      return new Float32Array(input.length);
    };
    const run = (m: EpsModel) =>
      sample({ sampler: createSampler(base, { name, steps: "6" }), model: m, shape, rng: new Rng(9) });
    const guided = await run(withGradient(model, gradient));
    const plain = await run(model);
    // The score form re-derives x₀ from ε from the clipped x₀: float32 round trips, as in the reference.
    close(guided, plain, name === "ddpm" || name === "plms" ? 0 : 2e-4);
    const sampler = createSampler(base, { name, steps: "6" });
    assert.deepEqual(
      seen.map(([t]) => t),
      [...sampler.timesteps],
    );
    assert.ok(seen.every(([, input]) => input.length === size));
  });
}
