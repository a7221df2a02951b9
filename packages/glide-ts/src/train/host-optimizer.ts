// AdamW on the host (see optimizer.ts): the gradient graph runs per micro-batch, and the update
// (global-norm clipping, AdamW, EMA) is applied on the host, one fused pass per parameter, in
// place. The same formulas as the graph form in step-graph.ts:
// on the CPU provider every elementwise op of that form is a full pass over all parameters (about
// sixteen per step, none fused), so this loop, which reads and writes each value once, is ~3× faster.
//
// Without weight decay, a value whose gradient, moments are zero and whose EMA equals it is left
// exactly as it is by the update (param − 0·step, EMA r·p + (1−r)·p rounds back to p). Half of a
// small GLIDE's parameters are the token embedding, whose rows stay so until a caption uses the
// token, so the update skips blocks of such values: bit for bit the dense result, less work.
import { numel } from "../graph/shape.ts";
import { CompiledGraph, type HostArray, type SessionOptions } from "../runtime/session.ts";
import { emaRateAt, type ResolvedAdamW } from "./adamw.ts";
import { extraOutputs, type Optimizer, type OptimizerState, StateBuffers, type StepResult } from "./optimizer.ts";
import { gradientName, type TrainStepGraph } from "./step-graph.ts";

export class HostOptimizer implements Optimizer {
  readonly placement = "host";
  /** Parameters, moments and EMA: one set, updated in place (so fixed for the optimizer's life). */
  private readonly buffers: StateBuffers;
  /** The gradient graph's parameter feeds and gradient outputs, by name… */
  private readonly params: Record<string, Float32Array>;
  private readonly grads: Record<string, Float32Array>;
  /** …and the same buffers per parameter, for the update. */
  private readonly perParam: ParamBuffers[];
  /** A second gradient set for accumulating micro-batches, made on first use. */
  private scratch: Record<string, Float32Array> | null = null;

  private constructor(
    /** The gradient graph. */
    private readonly gradient: CompiledGraph,
    private readonly plan: TrainStepGraph,
  ) {
    this.buffers = new StateBuffers(plan.slots);
    const feeds = this.buffers.feeds;
    this.perParam = plan.slots.map((s) => ({
      param: feeds[s.name]!,
      m: feeds[s.m]!,
      v: feeds[s.v]!,
      ema: s.ema ? feeds[s.ema]! : null,
      grad: new Float32Array(numel(s.shape)),
    }));
    this.params = this.buffers.params();
    this.grads = Object.fromEntries(plan.slots.map((s, i) => [gradientName(s.name), this.perParam[i]!.grad]));
  }

  static async create(plan: TrainStepGraph, options: SessionOptions): Promise<HostOptimizer> {
    const gradient = await CompiledGraph.compile(plan.gradientOutputs, { ...options, params: "inputs" });
    return new HostOptimizer(gradient, plan);
  }

  load(state: OptimizerState): void {
    this.buffers.load(state);
    // The update's record of which values are still does not hold for the new state.
    for (const b of this.perParam) b.live = undefined;
  }

  async state(): Promise<OptimizerState> {
    return this.buffers.views();
  }

  /** The gradient graph per micro-batch (gradients averaged on the host), then the host update. */
  async step(
    microBatches: readonly Record<string, HostArray>[],
    learningRate: number,
    step: number,
  ): Promise<StepResult> {
    const { params, grads } = this;
    const count = microBatches.length;
    // With several micro-batches the first writes straight into the sums and the rest are added.
    const scratch = count > 1 ? this.scratchGradients() : null;
    let loss = 0;
    const extras: Record<string, HostArray> = {};
    for (const [k, data] of microBatches.entries()) {
      const into = k === 0 || !scratch ? grads : scratch;
      const out = await this.gradient.run({ ...params, ...data }, into);
      loss += (out.loss as Float32Array)[0]! / count;
      Object.assign(extras, extraOutputs(out, into));
      if (k > 0) for (const [name, sum] of Object.entries(grads)) addInto(sum, into[name]!);
    }
    if (count > 1) for (const sum of Object.values(grads)) for (let i = 0; i < sum.length; i++) sum[i]! /= count;
    const gradNorm = applyOptimizerStep(this.perParam, this.plan.adamw, learningRate, step);
    return { loss, gradNorm, extras };
  }

  private scratchGradients(): Record<string, Float32Array> {
    this.scratch ??= Object.fromEntries(Object.entries(this.grads).map(([k, v]) => [k, new Float32Array(v.length)]));
    return this.scratch;
  }

  async release(): Promise<void> {
    await this.gradient.release();
  }
}

function addInto(sum: Float32Array, value: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i]! += value[i]!;
}

/** A parameter's buffers, updated in place. */
export interface ParamBuffers {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
  ema: Float32Array | null;
  grad: Float32Array;
  /**
   * Which blocks of BLOCK values the update has to visit, kept by applyOptimizerStep. Whoever
   * overwrites the buffers (loading a state) must reset it to undefined.
   */
  live?: LiveBlocks;
}

/** Values per block of the skipping (a token-embedding row of the small presets is 64 or 128). */
const BLOCK = 64;

interface LiveBlocks {
  flags: Uint8Array;
  /** Blocks flagged live; once every block is, the parameter is updated densely. */
  count: number;
}

function blockIsStill(b: ParamBuffers, start: number, end: number): boolean {
  const { param, m, v, ema } = b;
  for (let i = start; i < end; i++) {
    if (m[i] !== 0 || v[i] !== 0 || (ema && ema[i] !== param[i])) return false;
  }
  return true;
}

function gradIsZero(grad: Float32Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (grad[i] !== 0) return false;
  return true;
}

/** Flags the blocks this step moves: those already moving, and those with a gradient now. */
function refreshLive(b: ParamBuffers): LiveBlocks {
  const n = b.param.length;
  const blocks = Math.ceil(n / BLOCK);
  if (!b.live) {
    const flags = new Uint8Array(blocks);
    let count = 0;
    for (let k = 0; k < blocks; k++) {
      if (!blockIsStill(b, k * BLOCK, Math.min(n, (k + 1) * BLOCK))) {
        flags[k] = 1;
        count++;
      }
    }
    b.live = { flags, count };
  }
  const live = b.live;
  if (live.count === blocks) return live;
  for (let k = 0; k < blocks; k++) {
    if (live.flags[k] === 0 && !gradIsZero(b.grad, k * BLOCK, Math.min(n, (k + 1) * BLOCK))) {
      live.flags[k] = 1;
      live.count++;
    }
  }
  return live;
}

/**
 * The ranges [start, end) of `b` the update visits, merged where blocks are adjacent: the whole
 * parameter once every block is live. Skipped values have zero gradients, so the norm skips them too.
 */
function liveRanges(b: ParamBuffers, live: LiveBlocks | null): [number, number][] {
  const n = b.param.length;
  if (!live || live.count === live.flags.length) return [[0, n]];
  const ranges: [number, number][] = [];
  for (let k = 0; k < live.flags.length; k++) {
    if (live.flags[k] === 0) continue;
    const start = k * BLOCK;
    const end = Math.min(n, start + BLOCK);
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  return ranges;
}

/** The global L2 norm of the gradients over the visited ranges (accumulated in float64). */
function globalNorm(visits: readonly { b: ParamBuffers; ranges: [number, number][] }[]): number {
  let squares = 0;
  for (const { b, ranges } of visits) {
    const grad = b.grad;
    for (const [start, end] of ranges) for (let i = start; i < end; i++) squares += grad[i]! * grad[i]!;
  }
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
  // Weight decay moves every value, so then nothing is skipped.
  const skipping = lr * weightDecay === 0;
  if (!skipping) for (const b of buffers) b.live = undefined; // decayed values are no longer still
  const visits = buffers.map((b) => ({ b, ranges: liveRanges(b, skipping ? refreshLive(b) : null) }));
  const gradNorm = globalNorm(visits);
  // Per-step factors folded into scalars, as in the graph form.
  const clip = clipGradNorm === null ? 1 : clipGradNorm / Math.max(gradNorm + 1e-6, clipGradNorm);
  const mScale = clip * (1 - beta1);
  const vScale = clip * clip * (1 - beta2);
  const stepSize = lr / (1 - beta1 ** step);
  const rootCorrection2 = 1 / Math.sqrt(1 - beta2 ** step);
  const keep = 1 - lr * weightDecay;
  const scalars = { beta1, beta2, eps, mScale, vScale, stepSize, rootCorrection2, keep };
  const ema = emaRate === null ? null : emaRateAt(emaRate, emaWarmup, step);
  for (const { b, ranges } of visits) {
    for (const [start, end] of ranges) {
      if (b.ema && ema !== null) updateWithEma(b, b.ema, scalars, ema, start, end);
      else update(b, scalars, start, end);
    }
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
function update({ param, m, v, grad }: ParamBuffers, s: StepScalars, start: number, end: number): void {
  const { beta1, beta2, eps, mScale, vScale, stepSize, rootCorrection2, keep } = s;
  for (let i = start; i < end; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + mScale * g;
    const vi = beta2 * v[i]! + vScale * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i]! * keep - (mi / (Math.sqrt(vi) * rootCorrection2 + eps)) * stepSize;
  }
}

function updateWithEma(
  { param, m, v, grad }: ParamBuffers,
  ema: Float32Array,
  s: StepScalars,
  rate: number,
  start: number,
  end: number,
): void {
  const { beta1, beta2, eps, mScale, vScale, stepSize, rootCorrection2, keep } = s;
  const take = 1 - rate;
  for (let i = start; i < end; i++) {
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
