// Runs training steps. Two ways to apply the optimizer: "graph" runs the whole step graph
// (forward, backward, AdamW, EMA) and swaps two preallocated sets of parameter/optimizer buffers;
// "host" runs the gradient graph and updates the buffers in place with one fused pass per
// parameter (host-optimizer.ts), which on the CPU is ~3× faster than the update's ONNX ops.

import { gradientName, type TrainStepGraph } from "../graph/optim.ts";
import { numel } from "../graph/shape.ts";
import { applyOptimizerStep, type ParamBuffers } from "./host-optimizer.ts";
import { CompiledGraph, type HostArray, RuntimeError, type SessionOptions } from "./session.ts";

export type OptimizerPlacement = "graph" | "host";

export interface TrainingSessionOptions extends SessionOptions {
  /** Where the update runs: "host" by default on the CPU provider, "graph" on the others. */
  optimizer?: OptimizerPlacement;
}

/** Parameters, optimizer moments and EMA, by name; what a checkpoint holds. */
export interface TrainingState {
  step: number;
  params: Map<string, Float32Array>;
  adamM: Map<string, Float32Array>;
  adamV: Map<string, Float32Array>;
  ema: Map<string, Float32Array> | null;
}

interface BufferSet {
  feeds: Record<string, Float32Array>;
  outputs: Record<string, Float32Array>;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** Extra outputs the step graph was built with (not the loss, the gradient norm or the new state). */
  extras: Record<string, HostArray>;
}

export class TrainingSession {
  /** "graph" placement, compiled on first use of `runAccumulated`. */
  private accumulation: Promise<{
    gradient: CompiledGraph;
    apply: CompiledGraph;
    sums: Record<string, Float32Array>;
  }> | null = null;
  private current: BufferSet;
  /** The buffers the fused step graph writes ("graph" placement only). */
  private next: BufferSet | null;
  /**
   * "host" placement only: the gradient graph's parameter feeds and gradient outputs (by name), and
   * the same buffers per parameter for the update. Fixed for the session: host steps update in place.
   */
  private readonly host: {
    params: Record<string, Float32Array>;
    grads: Record<string, Float32Array>;
    buffers: ParamBuffers[];
  } | null;
  /** A second gradient set for accumulating micro-batches ("host"), made on first use. */
  private scratch: Record<string, Float32Array> | null = null;
  private stepCount: number;
  private readonly lr = new Float32Array(1);
  private readonly stepNumber = new Float32Array(1);

  private constructor(
    /** The fused step graph ("graph") or the gradient graph ("host"). */
    private readonly graph: CompiledGraph,
    private readonly plan: TrainStepGraph,
    initial: TrainingState,
    private readonly options: SessionOptions,
    readonly optimizer: OptimizerPlacement,
  ) {
    this.current = this.allocate();
    this.next = optimizer === "graph" ? this.allocate() : null;
    this.host = optimizer === "host" ? this.hostBuffers() : null;
    this.stepCount = 0;
    this.load(initial);
  }

  /** Compiles the step graph; `initial.params` must hold every parameter, the rest may be empty (zeros). */
  static async create(
    plan: TrainStepGraph,
    initial: Omit<TrainingState, "adamM" | "adamV" | "ema" | "step"> & Partial<TrainingState>,
    options: TrainingSessionOptions = {},
  ): Promise<TrainingSession> {
    const { optimizer: placement, ...sessionOptions } = options;
    const optimizer = placement ?? ((options.executionProvider ?? "cpu") === "cpu" ? "host" : "graph");
    const outputs = optimizer === "graph" ? plan.outputs : plan.gradientOutputs;
    const graph = await CompiledGraph.compile(outputs, { ...sessionOptions, params: "inputs" });
    return new TrainingSession(
      graph,
      plan,
      {
        step: initial.step ?? 0,
        params: initial.params,
        adamM: initial.adamM ?? new Map(),
        adamV: initial.adamV ?? new Map(),
        ema: initial.ema ?? null,
      },
      sessionOptions,
      optimizer,
    );
  }

  get step(): number {
    return this.stepCount;
  }

  private allocate(): BufferSet {
    const set: BufferSet = { feeds: {}, outputs: {} };
    for (const s of this.plan.slots) {
      const size = numel(s.shape);
      set.feeds[s.name] = new Float32Array(size);
      set.feeds[s.m] = new Float32Array(size);
      set.feeds[s.v] = new Float32Array(size);
      if (s.ema) set.feeds[s.ema] = new Float32Array(size);
    }
    return set;
  }

  /** The `next.*` outputs of a step written straight into the other buffer set. */
  private outputsInto(target: BufferSet): Record<string, Float32Array> {
    const into: Record<string, Float32Array> = {};
    for (const s of this.plan.slots) {
      into[s.next.param] = target.feeds[s.name]!;
      into[s.next.m] = target.feeds[s.m]!;
      into[s.next.v] = target.feeds[s.v]!;
      if (s.ema && s.next.ema) into[s.next.ema] = target.feeds[s.ema]!;
    }
    return into;
  }

  /** Replaces parameters and optimizer state (for resuming). Missing moments start at zero, EMA at the params. */
  load(state: TrainingState): void {
    for (const s of this.plan.slots) {
      const copy = (key: string, source: Float32Array | undefined, fallback: number | Float32Array) => {
        const target = this.current.feeds[key]!;
        if (source && source.length !== target.length) {
          throw new RuntimeError(`state '${key}' has ${source.length} values, the graph expects ${target.length}`);
        }
        if (source) target.set(source);
        else if (typeof fallback === "number") target.fill(fallback);
        else target.set(fallback);
      };
      const param = state.params.get(s.name);
      if (!param) throw new RuntimeError(`no initial value for parameter '${s.name}'`);
      copy(s.name, param, 0);
      copy(s.m, state.adamM.get(s.name), 0);
      copy(s.v, state.adamV.get(s.name), 0);
      if (s.ema) copy(s.ema, state.ema?.get(s.name), param);
    }
    // The host update's record of which values are still does not hold for the new state.
    for (const b of this.host?.buffers ?? []) b.live = undefined;
    this.stepCount = state.step;
  }

  /** One optimizer step on a batch; `data` holds the graph's other inputs. */
  async run(data: Record<string, HostArray>, learningRate: number): Promise<StepResult> {
    if (this.optimizer === "host") return this.runOnHost([data], learningRate);
    this.lr[0] = learningRate;
    this.stepNumber[0] = this.stepCount + 1;
    const into = this.outputsInto(this.next!);
    const feeds = {
      ...this.current.feeds,
      ...data,
      [this.plan.lrInput]: this.lr,
      [this.plan.stepInput]: this.stepNumber,
    };
    const out = await this.graph.run(feeds, into);
    [this.current, this.next] = [this.next!, this.current];
    this.stepCount++;
    const extras = extraOutputs(out, into);
    return { loss: (out.loss as Float32Array)[0]!, gradNorm: (out.grad_norm as Float32Array)[0]!, extras };
  }

  /**
   * One optimizer step on the average gradient of several micro-batches (gradient accumulation for
   * an effective batch larger than fits one graph run). The loss reported is the micro-batches' mean.
   */
  async runAccumulated(microBatches: readonly Record<string, HostArray>[], learningRate: number): Promise<StepResult> {
    if (microBatches.length === 0) throw new RuntimeError("runAccumulated: no micro-batches");
    if (microBatches.length === 1) return this.run(microBatches[0]!, learningRate);
    if (this.optimizer === "host") return this.runOnHost(microBatches, learningRate);
    this.accumulation ??= this.compileAccumulation();
    const { gradient, apply, sums } = await this.accumulation;
    for (const buffer of Object.values(sums)) buffer.fill(0);
    let loss = 0;
    const extras: Record<string, HostArray> = {};
    for (const data of microBatches) {
      const params: Record<string, Float32Array> = {};
      for (const s of this.plan.slots) params[s.name] = this.current.feeds[s.name]!;
      const out = await gradient.run({ ...params, ...data });
      loss += (out.loss as Float32Array)[0]! / microBatches.length;
      Object.assign(extras, extraOutputs(out, sums));
      for (const [name, value] of Object.entries(out)) {
        const sum = sums[name];
        if (!sum) continue;
        const g = value as Float32Array;
        for (let i = 0; i < sum.length; i++) sum[i]! += g[i]! / microBatches.length;
      }
    }
    this.lr[0] = learningRate;
    this.stepNumber[0] = this.stepCount + 1;
    const into = this.outputsInto(this.next!);
    const out = await apply.run(
      { ...this.current.feeds, ...sums, [this.plan.lrInput]: this.lr, [this.plan.stepInput]: this.stepNumber },
      into,
    );
    [this.current, this.next] = [this.next!, this.current];
    this.stepCount++;
    return { loss, gradNorm: (out.grad_norm as Float32Array)[0]!, extras };
  }

  private hostBuffers(): NonNullable<TrainingSession["host"]> {
    const feeds = this.current.feeds;
    const buffers = this.plan.slots.map((s) => ({
      param: feeds[s.name]!,
      m: feeds[s.m]!,
      v: feeds[s.v]!,
      ema: s.ema ? feeds[s.ema]! : null,
      grad: new Float32Array(numel(s.shape)),
    }));
    return {
      params: Object.fromEntries(this.plan.slots.map((s, i) => [s.name, buffers[i]!.param])),
      grads: Object.fromEntries(this.plan.slots.map((s, i) => [gradientName(s.name), buffers[i]!.grad])),
      buffers,
    };
  }

  /** The gradient graph per micro-batch (gradients averaged on the host), then the host update. */
  private async runOnHost(
    microBatches: readonly Record<string, HostArray>[],
    learningRate: number,
  ): Promise<StepResult> {
    const { params, grads, buffers } = this.host!;
    const count = microBatches.length;
    // With several micro-batches the first writes straight into the sums and the rest are added.
    const scratch = count > 1 ? this.scratchGradients() : null;
    let loss = 0;
    const extras: Record<string, HostArray> = {};
    for (const [k, data] of microBatches.entries()) {
      const into = k === 0 || !scratch ? grads : scratch;
      const out = await this.graph.run({ ...params, ...data }, into);
      loss += (out.loss as Float32Array)[0]! / count;
      Object.assign(extras, extraOutputs(out, into));
      if (k > 0) for (const [name, sum] of Object.entries(grads)) addInto(sum, into[name]!);
    }
    if (count > 1) for (const sum of Object.values(grads)) for (let i = 0; i < sum.length; i++) sum[i]! /= count;
    const gradNorm = applyOptimizerStep(buffers, this.plan.adamw, learningRate, this.stepCount + 1);
    this.stepCount++;
    return { loss, gradNorm, extras };
  }

  private scratchGradients(): Record<string, Float32Array> {
    const { grads } = this.host!;
    this.scratch ??= Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, new Float32Array(v.length)]));
    return this.scratch;
  }

  private async compileAccumulation() {
    const gradient = await CompiledGraph.compile(this.plan.gradientOutputs, { ...this.options, params: "inputs" });
    const apply = await CompiledGraph.compile(this.plan.applyOutputs, { ...this.options, params: "inputs" });
    const sums: Record<string, Float32Array> = {};
    for (const s of this.plan.slots) sums[gradientName(s.name)] = new Float32Array(numel(s.shape));
    return { gradient, apply, sums };
  }

  /** Views of the current state (valid until the next step); copy before keeping. */
  state(): TrainingState {
    const pick = (key: (s: TrainStepGraph["slots"][number]) => string | null) =>
      new Map(this.plan.slots.flatMap((s) => (key(s) ? [[s.name, this.current.feeds[key(s)!]!] as const] : [])));
    const hasEma = this.plan.slots.some((s) => s.ema);
    return {
      step: this.stepCount,
      params: pick((s) => s.name),
      adamM: pick((s) => s.m),
      adamV: pick((s) => s.v),
      ema: hasEma ? pick((s) => s.ema) : null,
    };
  }

  async release(): Promise<void> {
    await this.graph.release();
    if (this.accumulation) {
      const { gradient, apply } = await this.accumulation;
      await gradient.release();
      await apply.release();
    }
  }
}

function addInto(sum: Float32Array, value: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i]! += value[i]!;
}

/** A step's outputs besides the loss, the gradient norm and those written into `written`. */
function extraOutputs(out: Record<string, HostArray>, written: Record<string, unknown>): Record<string, HostArray> {
  const extras: Record<string, HostArray> = {};
  for (const [name, value] of Object.entries(out)) {
    if (!(name in written) && name !== "loss" && name !== "grad_norm") extras[name] = value;
  }
  return extras;
}
