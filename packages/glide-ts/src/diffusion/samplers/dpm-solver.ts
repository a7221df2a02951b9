// DPM-Solver++(2M) (Lu et al. 2022): a multistep solver of the diffusion ODE written in
// log-SNR time λ = log(α/σ), α = √ᾱ, σ = √(1 − ᾱ), on the data prediction D = x̂₀ (so clipping
// and denoisedFn act on what the solver integrates). With h = λ_next − λ_now:
//   first order (= DDIM):  x_next = (σ_next/σ_now) x − α_next (e^{−h} − 1) D_now
//   second order:          the same with D = (1 + 1/(2r)) D_now − 1/(2r) D_prev, r = h_prev / h.
// The first step has no history (first order); the last step goes to σ = 0 and returns D itself.
// A guidance gradient enters D as it enters DDIM's x̂₀ (the score form, condition_score).

import { roundHalfEven } from "../../util/round.ts";
import { checkIntegerInRange, checkOneOf } from "../../validate.ts";
import { conditionScore } from "../condition.ts";
import type { GaussianDiffusion } from "../gaussian.ts";
import { checkStepOrder, type Sampler, type StepInput, type StepOutput } from "./sampler.ts";

export class DpmSolverPlusPlusSampler implements Sampler {
  readonly name = "dpm++2m";
  readonly timesteps: readonly number[];
  private prevXStart: Float32Array | null = null;
  private nextIndex = 0;

  /**
   * `diffusion`: the process restricted to the evaluation timesteps (e.g.
   * `base.respace(dpmSolverTimesteps(base, 25))`); its last kept step is followed by x₀.
   */
  constructor(private readonly diffusion: GaussianDiffusion) {
    this.timesteps = [...diffusion.timestepMap].reverse();
  }

  step({ x, output, index, xStart }: StepInput): StepOutput {
    if (checkStepOrder(this.name, index, this.nextIndex, this.timesteps.length)) this.prevXStart = null;
    this.nextIndex = index + 1;
    const d = this.diffusion;
    const t = d.numTimesteps - 1 - index;
    const processed = d.processXStart(d.predictXStartFromEps(x, t, output.eps), t, xStart);
    const predXStart = output.grad ? conditionScore(d, x, t, processed, output.grad) : processed;
    const prev = this.prevXStart;
    this.prevXStart = predXStart;
    if (t === 0) return { sample: predXStart, predXStart };

    const lambda = (k: number) => logAlphaOverSigma(d.alphasCumprod[k]);
    const h = lambda(t - 1) - lambda(t);
    const sigmaRatio = d.sqrtOneMinusAlphasCumprod[t - 1] / d.sqrtOneMinusAlphasCumprod[t];
    const dataCoef = -d.sqrtAlphasCumprod[t - 1] * Math.expm1(-h); // −α_next (e^{−h} − 1)
    const sample = new Float32Array(x.length);
    if (prev === null) {
      for (let i = 0; i < x.length; i++) sample[i] = sigmaRatio * x[i] + dataCoef * predXStart[i];
    } else {
      const hPrev = lambda(t) - lambda(t + 1);
      const c = 1 / (2 * (hPrev / h));
      for (let i = 0; i < x.length; i++) {
        const D = (1 + c) * predXStart[i] - c * prev[i];
        sample[i] = sigmaRatio * x[i] + dataCoef * D;
      }
    }
    return { sample, predXStart };
  }
}

/** λ = log(α/σ) = ½ log(ᾱ / (1 − ᾱ)). */
function logAlphaOverSigma(alphaBar: number): number {
  return 0.5 * (Math.log(alphaBar) - Math.log1p(-alphaBar));
}

export type DpmSpacing = "logSNR" | "time";

/**
 * Original timesteps (ascending) at which DPM-Solver++ evaluates the model for `steps` steps.
 * `steps + 1` points are spread from the noisiest step T−1 to step 0, uniformly in time or in
 * log-SNR, and snapped to the nearest integer timestep; the last point (step 0) is replaced by x₀
 * itself, so the model runs at the first `steps` points. Where snapping would repeat a timestep
 * (log-SNR falls steeply over the last steps of the capped cosine schedule), the next free one is
 * taken instead, so there are always exactly `steps` evaluations.
 */
export function dpmSolverTimesteps(base: GaussianDiffusion, steps: number, spacing: DpmSpacing = "time"): number[] {
  const T = base.numTimesteps;
  checkIntegerInRange(steps, "DPM-Solver++ steps", 1, T);
  checkOneOf(spacing, "the DPM-Solver++ spacing", ["time", "logSNR"]);
  let snap: (j: number) => number;
  if (spacing === "time") {
    snap = (j) => roundHalfEven(((T - 1) * (steps - j)) / steps);
  } else {
    const lambdas = Array.from(base.alphasCumprod, logAlphaOverSigma); // decreasing in t
    const lo = lambdas[T - 1];
    const hi = lambdas[0];
    snap = (j) => nearestIndex(lambdas, lo + ((hi - lo) * j) / steps);
  }
  const descending: number[] = [];
  for (let j = 0; j < steps; j++) {
    const below = j === 0 ? T : descending[j - 1]; // strictly below the previous point …
    const floor = steps - 1 - j; // … leaving room for the points still to come
    descending.push(Math.max(floor, Math.min(below - 1, snap(j))));
  }
  return descending.reverse();
}

/** Index of the value of a decreasing array nearest to `target`. */
function nearestIndex(decreasing: number[], target: number): number {
  let lo = 0;
  let hi = decreasing.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (decreasing[mid] >= target) lo = mid;
    else hi = mid;
  }
  return Math.abs(decreasing[lo] - target) <= Math.abs(decreasing[hi] - target) ? lo : hi;
}
