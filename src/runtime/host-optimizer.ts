// The optimizer update of a training step (global-norm clipping, AdamW, EMA) applied on the host,
// one fused pass per parameter, in place. The same formulas as the graph form in graph/optim.ts:
// on the CPU provider every elementwise op of that form is a full pass over all parameters (about
// sixteen per step, none fused), so this loop, which reads and writes each value once, is ~3× faster.
import { emaRateAt, type ResolvedAdamW } from "../graph/optim.ts";

/** A parameter's buffers, updated in place. */
export interface ParamBuffers {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
  ema: Float32Array | null;
  grad: Float32Array;
}

/** The global L2 norm of the gradients (accumulated in float64). */
function globalNorm(grads: readonly Float32Array[]): number {
  let squares = 0;
  for (const grad of grads) for (let i = 0; i < grad.length; i++) squares += grad[i]! * grad[i]!;
  return Math.sqrt(squares);
}

/**
 * One step for every parameter with learning rate `lr` at 1-based step `step`; returns the
 * gradient norm before clipping.
 */
export function applyOptimizerStep(
  buffers: readonly ParamBuffers[],
  options: ResolvedAdamW,
  lr: number,
  step: number,
): number {
  const { beta1, beta2, eps, weightDecay, clipGradNorm, emaRate, emaWarmup } = options;
  const gradNorm = globalNorm(buffers.map((b) => b.grad));
  // Per-step factors folded into scalars, as in the graph form.
  const clip = clipGradNorm === null ? 1 : clipGradNorm / Math.max(gradNorm + 1e-6, clipGradNorm);
  const mScale = clip * (1 - beta1);
  const vScale = clip * clip * (1 - beta2);
  const stepSize = lr / (1 - beta1 ** step);
  const rootCorrection2 = 1 / Math.sqrt(1 - beta2 ** step);
  const keep = 1 - lr * weightDecay;
  const scalars = { beta1, beta2, eps, mScale, vScale, stepSize, rootCorrection2, keep };
  const ema = emaRate === null ? null : emaRateAt(emaRate, emaWarmup, step);
  for (const b of buffers) {
    if (b.ema && ema !== null) updateWithEma(b, b.ema, scalars, ema);
    else update(b, scalars);
  }
  return gradNorm;
}

interface StepScalars {
  beta1: number;
  beta2: number;
  eps: number;
  mScale: number;
  vScale: number;
  stepSize: number;
  rootCorrection2: number;
  keep: number;
}

// Two copies of the loop, so that neither tests for the EMA per element.
function update({ param, m, v, grad }: ParamBuffers, s: StepScalars): void {
  const { beta1, beta2, eps, mScale, vScale, stepSize, rootCorrection2, keep } = s;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + mScale * g;
    const vi = beta2 * v[i]! + vScale * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i]! * keep - (mi / (Math.sqrt(vi) * rootCorrection2 + eps)) * stepSize;
  }
}

function updateWithEma({ param, m, v, grad }: ParamBuffers, ema: Float32Array, s: StepScalars, rate: number): void {
  const { beta1, beta2, eps, mScale, vScale, stepSize, rootCorrection2, keep } = s;
  const take = 1 - rate;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + mScale * g;
    const vi = beta2 * v[i]! + vScale * g * g;
    const pi = param[i]! * keep - (mi / (Math.sqrt(vi) * rootCorrection2 + eps)) * stepSize;
    m[i] = mi;
    v[i] = vi;
    param[i] = pi;
    ema[i] = rate * ema[i]! + take * pi;
  }
}
