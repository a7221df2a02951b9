// Guidance by the gradient of a classifier's log-probability (the reference's cond_fn): the
// gradient, already scaled, enters the sampler through ModelOutput.grad. DDPM shifts the mean by
// variance · grad (condition_mean); the deterministic samplers use the score form,
// ε ← ε − √(1 − ᾱ_t) · grad (condition_score). A gradient is always taken at the x_t the model saw,
// with the original timestep.

import type { GaussianDiffusion } from "./gaussian.ts";
import type { EpsModel } from "./model.ts";

/** cond_fn: the scaled gradient at x_t (layout of `shape`) and the ORIGINAL timestep index t. */
export type GradientFn = (x: Float32Array, t: number, shape: readonly number[]) => Promise<Float32Array>;

/** The model with `gradient` evaluated at every x_t it sees, attached to its output as `grad`. */
export function withGradient(model: EpsModel, gradient: GradientFn): EpsModel {
  return async (x, t, shape) => {
    const output = await model(x, t, shape);
    const grad = await gradient(x, t, shape);
    if (grad.length !== x.length)
      throw new RangeError(`the guidance gradient has ${grad.length} values, x ${x.length}`);
    return { ...output, grad };
  };
}

/** condition_mean: mean + exp(log variance) · grad. */
export function conditionMean(mean: Float32Array, logVariance: Float32Array, grad: Float32Array): Float32Array {
  const out = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) out[i] = mean[i] + Math.fround(Math.exp(logVariance[i])) * grad[i];
  return out;
}

/** ε − √(1 − ᾱ_t) · grad, at step t of `diffusion`. */
export function conditionEps(
  diffusion: GaussianDiffusion,
  t: number,
  eps: Float32Array,
  grad: Float32Array,
): Float32Array {
  const s = diffusion.sqrtOneMinusAlphasCumprod[t];
  const out = new Float32Array(eps.length);
  for (let i = 0; i < eps.length; i++) out[i] = eps[i] - s * grad[i];
  return out;
}

/**
 * condition_score: the ε implied by the processed (clipped) x₀ prediction, shifted by the score
 * form, and the x₀ prediction it implies (not clipped again, as the reference).
 */
export function conditionScore(
  diffusion: GaussianDiffusion,
  x: Float32Array,
  t: number,
  predXStart: Float32Array,
  grad: Float32Array,
): Float32Array {
  const eps = conditionEps(diffusion, t, diffusion.predictEpsFromXStart(x, t, predXStart), grad);
  return diffusion.predictXStartFromEps(x, t, eps);
}
