// AdamW in the graph (see optimizer.ts): one micro-batch runs the fused step graph (forward,
// backward, clipping, AdamW, EMA); several run the gradient graph each, average the gradients on
// the host, and run the update graph on the mean. Either writes the next state into the second of
// two buffer sets, and the sets swap.
//
// On WebGPU the fused step keeps the next state on the GPU and the following step reads it there:
// the parameters, moments and EMA cross to the host only when asked for (a checkpoint, a sample),
// not twice a step.
import * as g from "../graph/index.ts";
import { numel } from "../graph/shape.ts";
import {
  CompiledGraph,
  type DeviceTensor,
  type Feed,
  type HostArray,
  type SessionOptions,
} from "../runtime/session.ts";
import { extraOutputs, type Optimizer, type OptimizerState, StateBuffers, type StepResult } from "./optimizer.ts";
import { gradientName, type ParamSlots, type TrainStepGraph } from "./step-graph.ts";

/** Each next-state output of the step graph and the state input it becomes for the next step. */
function nextStateInputs(slots: readonly ParamSlots[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const s of slots) {
    pairs.set(s.next.param, s.name);
    pairs.set(s.next.m, s.m);
    pairs.set(s.next.v, s.v);
    if (s.ema && s.next.ema) pairs.set(s.next.ema, s.ema);
  }
  return pairs;
}

/** A graph that copies every state tensor from the device to the host (`host.NAME`). */
function readbackOutputs(slots: readonly ParamSlots[]): Record<string, g.Tensor> {
  const outputs: Record<string, g.Tensor> = {};
  for (const s of slots) {
    for (const name of [s.name, s.m, s.v, s.ema]) {
      // The exporter writes each output as an Identity node: the input, bit for bit, on the host.
      if (name) outputs[`host.${name}`] = g.input(name, s.shape);
    }
  }
  return outputs;
}

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
  /** On the device: the state after the last step, by state input name (the host buffers lag until read back). */
  private onDevice: Record<string, DeviceTensor> | null = null;
  private hostCurrent = true;
  private readback: Promise<CompiledGraph> | null = null;
  private readonly nextInputs: Map<string, string>;
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
    this.nextInputs = nextStateInputs(plan.slots);
  }

  static async create(plan: TrainStepGraph, options: SessionOptions): Promise<GraphOptimizer> {
    const deviceOutputs = [...nextStateInputs(plan.slots).keys()];
    const fused = await CompiledGraph.compile(plan.outputs, { ...options, params: "inputs", deviceOutputs });
    return new GraphOptimizer(fused, plan, options);
  }

  load(state: OptimizerState): void {
    this.dropDeviceState();
    this.current.load(state);
  }

  async state(): Promise<OptimizerState> {
    await this.readBack();
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
    if (microBatches.length === 1) {
      const stateFeeds: Record<string, Feed> = this.onDevice ?? this.current.feeds;
      const keepsState = this.fused.deviceOutputs.size > 0;
      const into = keepsState ? {} : this.next.asNextOutputs();
      const { host: out, device } = await this.fused.runOnDevice(
        { ...stateFeeds, ...microBatches[0]!, ...scalars },
        into,
      );
      if (keepsState) this.keepOnDevice(device);
      else [this.current, this.next] = [this.next, this.current];
      const extras = extraOutputs(out, { ...into, ...device });
      return { loss: (out.loss as Float32Array)[0]!, gradNorm: (out.grad_norm as Float32Array)[0]!, extras };
    }
    // Accumulation runs on host buffers: the state comes back from the device first.
    await this.readBack();
    this.dropDeviceState();
    const { loss, extras, sums, apply } = await this.meanGradients(microBatches);
    const out = await apply.run({ ...this.current.feeds, ...sums, ...scalars }, this.next.asNextOutputs());
    [this.current, this.next] = [this.next, this.current];
    return { loss, gradNorm: (out.grad_norm as Float32Array)[0]!, extras };
  }

  /** The step's next-state outputs become the state the next step reads; the previous state is freed. */
  private keepOnDevice(outputs: Record<string, DeviceTensor>): void {
    const state: Record<string, DeviceTensor> = {};
    for (const [output, tensor] of Object.entries(outputs)) state[this.nextInputs.get(output)!] = tensor;
    this.dropDeviceState();
    this.onDevice = state;
    this.hostCurrent = false;
  }

  /** Copies the device's state into the host buffers, once per step at most. */
  private async readBack(): Promise<void> {
    if (this.onDevice === null || this.hostCurrent) return;
    this.readback ??= CompiledGraph.compile(readbackOutputs(this.plan.slots), this.options);
    const graph = await this.readback;
    const into = Object.fromEntries(
      Object.keys(this.onDevice).map((name) => [`host.${name}`, this.current.feeds[name]!]),
    );
    await graph.runOnDevice(this.onDevice, into);
    this.hostCurrent = true;
  }

  private dropDeviceState(): void {
    if (this.onDevice) for (const tensor of Object.values(this.onDevice)) tensor.dispose();
    this.onDevice = null;
    this.hostCurrent = true;
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
    this.dropDeviceState();
    if (this.readback) await (await this.readback).release();
    await this.fused.release();
    if (this.accumulation) {
      const { gradient, apply } = await this.accumulation;
      await gradient.release();
      await apply.release();
    }
  }
}
