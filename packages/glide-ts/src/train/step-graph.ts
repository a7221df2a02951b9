// Training-step graphs: loss → gradients → (clipping) → AdamW → EMA, all inside one ONNX graph
// (run by GraphOptimizer), and the gradient graph alone (run by HostOptimizer, which applies the
// same update on the host). Training's, not the graph layer's: it is built from graph ops.
import { gradients } from "../graph/autodiff.ts";
import { GraphError } from "../graph/dtype.ts";
import { add, div, exp, maximum, mul, sqrt, sub } from "../graph/ops/elementwise.ts";
import { input, isParam, param, paramAttrs } from "../graph/ops/leaf.ts";
import { sum } from "../graph/ops/shape-reduce.ts";
import { formatShape, type Shape } from "../graph/shape.ts";
import type { Tensor } from "../graph/tensor.ts";
import { topologicalOrder } from "../graph/traverse.ts";
import { type AdamWOptions, type ResolvedAdamW, resolveAdamW } from "./adamw.ts";

/** Names of the graph values for one parameter; the `next` ones are outputs. */
export interface ParamSlots {
  name: string;
  shape: Shape;
  m: string;
  v: string;
  ema: string | null;
  next: { param: string; m: string; v: string; ema: string | null };
}

export interface TrainStepGraph {
  /** The fused step: `loss`, `grad_norm`, any extra outputs, and the next parameter and optimizer state. */
  outputs: Record<string, Tensor>;
  /** For gradient accumulation: `loss`, the extra outputs and `grad.NAME` for every parameter… */
  gradientOutputs: Record<string, Tensor>;
  /** …and the update alone, taking the (averaged) gradients as inputs `grad.NAME`. */
  applyOutputs: Record<string, Tensor>;
  slots: ParamSlots[];
  /** Scalar inputs fed every step: the learning rate and the 1-based step number. */
  lrInput: string;
  stepInput: string;
  /** The update's settings, for a runner that applies it outside the graph (HostOptimizer, host-optimizer.ts). */
  adamw: ResolvedAdamW;
}

/** Every parameter leaf the tensor depends on, in graph order. */
export function parametersOf(t: Tensor): Tensor[] {
  return topologicalOrder([t]).filter(isParam);
}

export const gradientName = (param: string): string => `grad.${param}`;

/**
 * Builds the graph of one optimizer step on `loss` (a scalar). Parameters enter as graph inputs
 * under their own names, with `adam_m.NAME`, `adam_v.NAME` and `ema.NAME`; the updated values leave
 * as `next.NAME`, `next.adam_m.NAME`, and so on, so a runner can swap buffers between steps.
 */
export function buildTrainStep(
  loss: Tensor,
  options: AdamWOptions & { params?: Tensor[]; extraOutputs?: Record<string, Tensor> } = {},
): TrainStepGraph {
  if (loss.shape.length !== 0)
    throw new GraphError(`buildTrainStep: loss must be a scalar, got ${formatShape(loss.shape)}`);
  const params = options.params ?? parametersOf(loss);
  if (params.length === 0) throw new GraphError("buildTrainStep: the loss depends on no parameters");
  const grads = gradients(loss, params);
  const fused = optimizerUpdate(params, grads, options);

  const gradientOutputs: Record<string, Tensor> = { loss, ...options.extraOutputs };
  params.forEach((p, i) => {
    gradientOutputs[gradientName(paramAttrs(p).name)] = grads[i]!;
  });
  // The update alone: fresh parameter leaves of the same names, gradients as inputs.
  const freshParams = params.map((p) => param(paramAttrs(p).name, p.shape));
  const gradInputs = params.map((p) => input(gradientName(paramAttrs(p).name), p.shape));
  const apply = optimizerUpdate(freshParams, gradInputs, options);

  return {
    outputs: { loss, grad_norm: fused.gradNorm, ...options.extraOutputs, ...fused.outputs },
    gradientOutputs,
    applyOutputs: { grad_norm: apply.gradNorm, ...apply.outputs },
    slots: fused.slots,
    lrInput: "lr",
    stepInput: "step",
    adamw: resolveAdamW(options),
  };
}

/** Clipping, AdamW and EMA for parameters given their gradients. */
function optimizerUpdate(
  params: readonly Tensor[],
  grads: readonly Tensor[],
  options: AdamWOptions,
): { outputs: Record<string, Tensor>; slots: ParamSlots[]; gradNorm: Tensor } {
  const { beta1, beta2, eps, weightDecay, clipGradNorm, emaRate, emaWarmup } = resolveAdamW(options);
  // Every op here is a full pass over all parameters (onnxruntime does not fuse elementwise ops
  // on CPU), so per-step factors are folded into scalars first: clipping scales the moment updates,
  // the bias corrections scale the step.
  const squares = grads.map((g) => mul(g, g));
  const gradNorm = sqrt(squares.map((g2) => sum(g2)).reduce((acc, s) => add(acc, s)));
  let clip: Tensor | number = 1;
  if (clipGradNorm !== null) {
    clip = div(clipGradNorm, maximum(add(gradNorm, 1e-6), clipGradNorm));
  }
  const mScale = typeof clip === "number" ? 1 - beta1 : mul(clip, 1 - beta1);
  const vScale = typeof clip === "number" ? 1 - beta2 : mul(mul(clip, clip), 1 - beta2);

  const lr = input("lr", []);
  const step = input("step", []);
  const stepSize = div(lr, sub(1, exp(mul(step, Math.log(beta1))))); // lr / (1 − β1^t)
  const rootCorrection2 = div(1, sqrt(sub(1, exp(mul(step, Math.log(beta2)))))); // 1 / √(1 − β2^t)
  const keep = weightDecay === 0 ? null : sub(1, mul(lr, weightDecay));
  // The share of the new parameters in the EMA: 1 − min(rate, (1 + t)/(10 + t)) = max(9/(10 + t), 1 − rate).
  let emaTake: Tensor | number | null = emaRate === null ? null : 1 - emaRate;
  if (emaRate !== null && emaWarmup) emaTake = maximum(div(9, add(step, 10)), 1 - emaRate);
  const emaKeep = emaTake === null ? null : typeof emaTake === "number" ? 1 - emaTake : sub(1, emaTake);
  const outputs: Record<string, Tensor> = {};
  const slots: ParamSlots[] = params.map((p, i) => {
    const { name, shape } = paramAttrs(p);
    const slot: ParamSlots = {
      name,
      shape,
      m: `adam_m.${name}`,
      v: `adam_v.${name}`,
      ema: emaRate === null ? null : `ema.${name}`,
      next: { param: `next.${name}`, m: `next.adam_m.${name}`, v: `next.adam_v.${name}`, ema: null },
    };
    const m = add(mul(input(slot.m, shape), beta1), mul(grads[i]!, mScale));
    const v = add(mul(input(slot.v, shape), beta2), mul(squares[i]!, vScale));
    // p ← p·(1 − lr·wd) − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + eps)
    const denominator = add(mul(sqrt(v), rootCorrection2), eps);
    const nextParam = sub(keep ? mul(p, keep) : p, mul(div(m, denominator), stepSize));
    outputs[slot.next.param] = nextParam;
    outputs[slot.next.m] = m;
    outputs[slot.next.v] = v;
    if (slot.ema !== null) {
      slot.next.ema = `next.ema.${name}`;
      outputs[slot.next.ema] = add(mul(input(slot.ema, shape), emaKeep!), mul(nextParam, emaTake!));
    }
    return slot;
  });
  return { outputs, slots, gradNorm };
}
