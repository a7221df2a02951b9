// AdamW in the graph (see optimizer.ts): one micro-batch runs the fused step graph (forward,
// backward, clipping, AdamW, EMA); several run the gradient graph each, average the gradients on
// the host, and run the update graph on the mean. Either writes the next state into the second of
// two buffer sets, and the sets swap.
import { numel } from "../graph/shape.ts";
import { CompiledGraph, type HostArray, type SessionOptions } from "../runtime/session.ts";
import { extraOutputs, type Optimizer, type OptimizerState, StateBuffers, type StepResult } from "./optimizer.ts";
import { gradientName, type TrainStepGraph } from "./step-graph.ts";

interface Accumulation {
  gradient: CompiledGraph;
  apply: CompiledGraph;
  sums: Record<string, Float32Array>;
}

export class GraphOptimizer implements Optimizer {
  readonly placement = "graph";
  private current: StateBuffers;
  /** The buffers the next step writes. */
  private next: StateBuffers;
  /** The gradient and update graphs, compiled on the first step with several micro-batches. */
  private accumulation: Promise<Accumulation> | null = null;
  private readonly lr = new Float32Array(1);
  private readonly stepNumber = new Float32Array(1);

  private constructor(
    /** The fused step graph. */
    private readonly fused: CompiledGraph,
    private readonly plan: TrainStepGraph,
    private readonly options: SessionOptions,
  ) {
    this.current = new StateBuffers(plan.slots);
    this.next = new StateBuffers(plan.slots);
  }

  static async create(plan: TrainStepGraph, options: SessionOptions): Promise<GraphOptimizer> {
    const fused = await CompiledGraph.compile(plan.outputs, { ...options, params: "inputs" });
    return new GraphOptimizer(fused, plan, options);
  }

  load(state: OptimizerState): void {
    this.current.load(state);
  }

  state(): OptimizerState {
    return this.current.views();
  }

  async step(
    microBatches: readonly Record<string, HostArray>[],
    learningRate: number,
    step: number,
  ): Promise<StepResult> {
    this.lr[0] = learningRate;
    this.stepNumber[0] = step;
    const scalars = { [this.plan.lrInput]: this.lr, [this.plan.stepInput]: this.stepNumber };
    const into = this.next.asNextOutputs();
    let result: StepResult;
    if (microBatches.length === 1) {
      const out = await this.fused.run({ ...this.current.feeds, ...microBatches[0]!, ...scalars }, into);
      const extras = extraOutputs(out, into);
      result = { loss: (out.loss as Float32Array)[0]!, gradNorm: (out.grad_norm as Float32Array)[0]!, extras };
    } else {
      const { loss, extras, sums, apply } = await this.meanGradients(microBatches);
      const out = await apply.run({ ...this.current.feeds, ...sums, ...scalars }, into);
      result = { loss, gradNorm: (out.grad_norm as Float32Array)[0]!, extras };
    }
    [this.current, this.next] = [this.next, this.current];
    return result;
  }

  /** The gradient graph on each micro-batch, the gradients averaged into `sums`. */
  private async meanGradients(microBatches: readonly Record<string, HostArray>[]) {
    this.accumulation ??= this.compileAccumulation();
    const { gradient, apply, sums } = await this.accumulation;
    for (const buffer of Object.values(sums)) buffer.fill(0);
    let loss = 0;
    const extras: Record<string, HostArray> = {};
    const params = this.current.params();
    for (const data of microBatches) {
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
    return { loss, extras, sums, apply };
  }

  private async compileAccumulation(): Promise<Accumulation> {
    const gradient = await CompiledGraph.compile(this.plan.gradientOutputs, { ...this.options, params: "inputs" });
    const apply = await CompiledGraph.compile(this.plan.applyOutputs, { ...this.options, params: "inputs" });
    const sums: Record<string, Float32Array> = {};
    for (const s of this.plan.slots) sums[gradientName(s.name)] = new Float32Array(numel(s.shape));
    return { gradient, apply, sums };
  }

  async release(): Promise<void> {
    await this.fused.release();
    if (this.accumulation) {
      const { gradient, apply } = await this.accumulation;
      await gradient.release();
      await apply.release();
    }
  }
}
