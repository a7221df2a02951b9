// AdamW's settings (with global-norm clipping and an EMA of the parameters), shared by its two
// forms: the update as graph ops (step-graph.ts, run by GraphOptimizer) and the fused host loop
// (host-optimizer.ts, run by HostOptimizer). Both apply the same formulas to the same state.
import { GraphError } from "../graph/dtype.ts";
import { type KeysOf, pick } from "./pick.ts";

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (PyTorch AdamW): p ← p·(1 − lr·wd) − lr·update. */
  weightDecay?: number;
  /** Scale gradients down so their global L2 norm is at most this. */
  clipGradNorm?: number | null;
  /** Keep an exponential moving average of the parameters with this rate (e.g. 0.9999). */
  emaRate?: number | null;
  /**
   * Warm the EMA up: at 1-based step t its rate is min(emaRate, (1 + t) / (10 + t)), so early
   * averages are not dominated by the initial weights (at 0.999 and step 500 a plain EMA still
   * holds 61 % of them).
   */
  emaWarmup?: boolean;
}

/** AdamWOptions with every default filled in. */
export type ResolvedAdamW = Required<AdamWOptions>;

const ADAMW_KEYS = {
  beta1: true,
  beta2: true,
  eps: true,
  weightDecay: true,
  clipGradNorm: true,
  emaRate: true,
  emaWarmup: true,
} as const satisfies KeysOf<AdamWOptions>;

/** The AdamW fields of a larger options object (the trainer's), and nothing else. */
export function adamwOptionsOf(options: AdamWOptions): AdamWOptions {
  return pick(options, ADAMW_KEYS);
}

export function resolveAdamW(options: AdamWOptions = {}): ResolvedAdamW {
  const {
    beta1 = 0.9,
    beta2 = 0.999,
    eps = 1e-8,
    weightDecay = 0,
    clipGradNorm = null,
    emaRate = null,
    emaWarmup = false,
  } = options;
  if (clipGradNorm !== null && !(clipGradNorm > 0)) {
    throw new GraphError(`buildTrainStep: clipGradNorm must be positive, got ${clipGradNorm}`);
  }
  return { beta1, beta2, eps, weightDecay, clipGradNorm, emaRate, emaWarmup };
}

/** The EMA rate at 1-based step `step` (see AdamWOptions.emaWarmup). */
export function emaRateAt(rate: number, warmup: boolean, step: number): number {
  return warmup ? Math.min(rate, (1 + step) / (10 + step)) : rate;
}
