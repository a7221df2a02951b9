// DDIM (Song et al. 2021): the reference's ddim_sample. eta = 0 is the deterministic ODE-like
// sampler; eta = 1 matches DDPM's posterior variance.

import { checkNonNegative } from "../../validate.ts";
import { conditionScore } from "../condition.ts";
import type { GaussianDiffusion } from "../gaussian.ts";
import type { XStartOptions } from "../model.ts";
import type { Sampler, StepInput, StepOutput } from "./sampler.ts";

export interface DdimOptions {
  eta?: number;
}

export class DdimSampler implements Sampler {
  readonly name = "ddim";
  readonly timesteps: readonly number[];
  private readonly eta: number;

  constructor(
    private readonly diffusion: GaussianDiffusion,
    options: DdimOptions = {},
  ) {
    this.eta = options.eta ?? 0;
    checkNonNegative(this.eta, "DDIM eta");
    this.timesteps = [...diffusion.timestepMap].reverse();
  }

  step({ x, output, index, noise, xStart }: StepInput): StepOutput {
    const t = this.diffusion.numTimesteps - 1 - index;
    return ddimStep(this.diffusion, x, output.eps, t, xStart, this.eta, noise, output.grad);
  }
}

/**
 * One DDIM update from step t to step t − 1 (to x₀ itself when t = 0), DDIM eq. 12:
 * x_{t−1} = √ᾱ_{t−1} x̂₀ + √(1 − ᾱ_{t−1} − σ²) ε̂ + σ z, with
 * σ = eta √((1 − ᾱ_{t−1}) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_{t−1}).
 * As the reference does, ε̂ is re-derived from the processed (clipped, denoisedFn) x̂₀; a guidance
 * gradient then shifts ε̂ in the score form and x̂₀ follows it (condition_score, not clipped again).
 * `noise` is only called when σ > 0.
 */
export function ddimStep(
  diffusion: GaussianDiffusion,
  x: Float32Array,
  eps: Float32Array,
  t: number,
  xStart: XStartOptions,
  eta = 0,
  noise?: () => Float32Array,
  grad?: Float32Array,
): StepOutput {
  const processed = diffusion.processXStart(diffusion.predictXStartFromEps(x, t, eps), t, xStart);
  const predXStart = grad ? conditionScore(diffusion, x, t, processed, grad) : processed;
  const epsHat = diffusion.predictEpsFromXStart(x, t, predXStart);
  const alphaBar = diffusion.alphasCumprod[t];
  const alphaBarPrev = diffusion.alphasCumprodPrev[t];
  const sigma = eta * Math.sqrt((1 - alphaBarPrev) / (1 - alphaBar)) * Math.sqrt(1 - alphaBar / alphaBarPrev);
  const a = Math.sqrt(alphaBarPrev);
  const b = Math.sqrt(1 - alphaBarPrev - sigma * sigma);
  const sample = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) sample[i] = a * predXStart[i] + b * epsHat[i];
  if (sigma > 0 && t !== 0) {
    if (!noise) throw new TypeError("a stochastic DDIM step (eta > 0) needs noise");
    const z = noise();
    for (let i = 0; i < x.length; i++) sample[i] += sigma * z[i];
  }
  return { sample, predXStart };
}
