// Ancestral sampling (DDPM, Ho et al. 2020) with the learned-range variance of improved DDPM:
// the reference's p_sample. No noise is added at the last step (t = 0). A guidance gradient shifts
// the mean by variance · grad (the reference's condition_mean).

import { conditionMean } from "../condition.ts";
import type { GaussianDiffusion, VarianceMode } from "../gaussian.ts";
import type { Sampler, StepInput, StepOutput } from "./sampler.ts";

export interface DdpmOptions {
  /** GLIDE's models learn the variance ("learned-range", needs the model's `v`). */
  variance?: VarianceMode;
}

export class DdpmSampler implements Sampler {
  readonly name = "ddpm";
  readonly timesteps: readonly number[];
  private readonly variance: VarianceMode;

  /** `diffusion`: the (respaced) process; one step per kept timestep, noisiest first. */
  constructor(
    private readonly diffusion: GaussianDiffusion,
    options: DdpmOptions = {},
  ) {
    this.variance = options.variance ?? "learned-range";
    this.timesteps = [...diffusion.timestepMap].reverse();
  }

  step({ x, output, index, noise, xStart }: StepInput): StepOutput {
    const t = this.diffusion.numTimesteps - 1 - index;
    const p = this.diffusion.pMeanVariance(x, t, output, { ...xStart, variance: this.variance });
    const { logVariance, predXStart } = p;
    const mean = output.grad ? conditionMean(p.mean, logVariance, output.grad) : p.mean;
    if (t === 0) return { sample: mean, predXStart };
    const z = noise();
    const sample = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) sample[i] = mean[i] + Math.exp(0.5 * logVariance[i]) * z[i];
    return { sample, predXStart };
  }
}
