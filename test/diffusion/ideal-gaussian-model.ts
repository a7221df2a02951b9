// The ideal (MMSE) noise predictor for Gaussian data, the network-free model of the sampler tests.
//
// Data x₀ ~ N(μ, σ²) per dimension and x_t = √ᾱ x₀ + √(1 − ᾱ) ε make (ε, x_t) jointly Gaussian with
// E[x_t] = √ᾱ μ, Var x_t = ᾱσ² + 1 − ᾱ and Cov(ε, x_t) = √(1 − ᾱ); so the regression of ε on x_t,
// which a perfectly trained eps network computes, is
//   ε*(x_t, t) = E[ε | x_t] = √(1 − ᾱ) (x_t − √ᾱ μ) / (ᾱσ² + 1 − ᾱ).
// The exact reverse transition q(x_{t−1} | x_t) is Gaussian too: its mean is the posterior mean at
// E[x₀ | x_t] (the posterior mean is linear in x₀) and, by the law of total variance, its variance is
//   posterior variance + coef1² · Var(x₀ | x_t),   Var(x₀ | x_t) = σ²(1 − ᾱ) / (ᾱσ² + 1 − ᾱ).
// A perfect learned-range model outputs the v that gives this variance, which makes DDPM exact at
// any step count.

import type { GaussianDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import type { EpsModel } from "../../packages/glide-ts/src/diffusion/model.ts";

export interface GaussianData {
  mu: number;
  sigma: number;
}

/** ε* only (no variance output): for DDIM, PLMS, DPM-Solver++. `base`: the unrespaced process. */
export function idealEpsModel(base: GaussianDiffusion, data: GaussianData, calls?: number[]): EpsModel {
  return async (x, t) => {
    calls?.push(t);
    return { eps: idealEps(base, data, x, t) };
  };
}

/** ε* with a constant learned-range value v (−1: posterior variance, +1: β). */
export function constantVarianceModel(base: GaussianDiffusion, data: GaussianData, v: number): EpsModel {
  return async (x, t) => ({ eps: idealEps(base, data, x, t), v: new Float32Array(x.length).fill(v) });
}

/** ε* with the v that makes each step of `process` (a respacing of `base`) the exact reverse transition. */
export function exactVarianceModel(base: GaussianDiffusion, process: GaussianDiffusion, data: GaussianData): EpsModel {
  const stepOf = new Map(process.timestepMap.map((t, k) => [t, k]));
  return async (x, t) => {
    const k = stepOf.get(t);
    if (k === undefined) throw new Error(`timestep ${t} is not a step of the process`);
    const ab = base.alphasCumprod[t];
    const varX0 = (data.sigma ** 2 * (1 - ab)) / (ab * data.sigma ** 2 + 1 - ab);
    const exactVar = process.posteriorVariance[k] + process.posteriorMeanCoef1[k] ** 2 * varX0;
    const minLog = process.posteriorLogVarianceClipped[k];
    const maxLog = Math.log(process.betas[k]);
    // At k = 0 no noise is added and the variance is unused.
    const v = k === 0 ? 0 : (2 * (Math.log(exactVar) - minLog)) / (maxLog - minLog) - 1;
    return { eps: idealEps(base, data, x, t), v: new Float32Array(x.length).fill(v) };
  };
}

function idealEps(base: GaussianDiffusion, { mu, sigma }: GaussianData, x: Float32Array, t: number): Float32Array {
  const ab = base.alphasCumprod[t];
  const gain = Math.sqrt(1 - ab) / (ab * sigma * sigma + 1 - ab);
  const center = Math.sqrt(ab) * mu;
  const eps = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) eps[i] = gain * (x[i] - center);
  return eps;
}

/** Sample mean and (population) standard deviation. */
export function meanStd(x: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let sq = 0;
  for (const v of x) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / x.length) };
}
