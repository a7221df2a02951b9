// Runs training steps: a step-graph plan (step-graph.ts) with an Optimizer (optimizer.ts) that
// holds the parameters, moments and EMA and applies AdamW in the graph (GraphOptimizer) or on the
// host (HostOptimizer); the session counts steps and handles states.
import type { HostArray, SessionOptions } from "../runtime/session.ts";
import { RuntimeError } from "../runtime/session.ts";
import { GraphOptimizer } from "./graph-optimizer.ts";
import { HostOptimizer } from "./host-optimizer.ts";
import type { Optimizer, OptimizerPlacement, StepResult, TrainingState } from "./optimizer.ts";
import { type KeysOf, pick } from "./pick.ts";
import type { TrainStepGraph } from "./step-graph.ts";

export type { OptimizerPlacement, StepResult, TrainingState } from "./optimizer.ts";

export interface TrainingSessionOptions extends SessionOptions {
  /** Where the update runs: "host" by default on the CPU provider, "graph" on the others. */
  optimizer?: OptimizerPlacement;
}

const TRAINING_SESSION_KEYS = {
  threads: true,
  executionProvider: true,
  spinning: true,
  keepRunMemory: true,
  logLevel: true,
  optimizer: true,
} as const satisfies KeysOf<TrainingSessionOptions>;

/** The TrainingSessionOptions fields of a larger options object (the trainer's), and nothing else. */
export function trainingSessionOptionsOf(options: TrainingSessionOptions): TrainingSessionOptions {
  return pick(options, TRAINING_SESSION_KEYS);
}

/** The optimizer `options` ask for, its graphs compiled. */
export async function createOptimizer(plan: TrainStepGraph, options: TrainingSessionOptions = {}): Promise<Optimizer> {
  const { optimizer: placement, ...sessionOptions } = options;
  const where = placement ?? ((options.executionProvider ?? "cpu") === "cpu" ? "host" : "graph");
  return where === "host" ? HostOptimizer.create(plan, sessionOptions) : GraphOptimizer.create(plan, sessionOptions);
}

export class TrainingSession {
  private stepCount = 0;

  private constructor(private readonly optimizer: Optimizer) {}

  /** Compiles the step graph; `initial.params` must hold every parameter, the rest may be empty (zeros). */
  static async create(
    plan: TrainStepGraph,
    initial: Omit<TrainingState, "adamM" | "adamV" | "ema" | "step"> & Partial<TrainingState>,
    options: TrainingSessionOptions = {},
  ): Promise<TrainingSession> {
    const session = new TrainingSession(await createOptimizer(plan, options));
    session.load({
      step: initial.step ?? 0,
      params: initial.params,
      adamM: initial.adamM ?? new Map(),
      adamV: initial.adamV ?? new Map(),
      ema: initial.ema ?? null,
    });
    return session;
  }

  get step(): number {
    return this.stepCount;
  }

  /** Where the update runs. */
  get placement(): OptimizerPlacement {
    return this.optimizer.placement;
  }

  /** Replaces parameters and optimizer state (for resuming). Missing moments start at zero, EMA at the params. */
  load(state: TrainingState): void {
    const { step, ...optimizerState } = state;
    this.optimizer.load(optimizerState);
    this.stepCount = step;
  }

  /** One optimizer step on a batch; `data` holds the graph's other inputs. */
  run(data: Record<string, HostArray>, learningRate: number): Promise<StepResult> {
    return this.runAccumulated([data], learningRate);
  }

  /**
   * One optimizer step on the average gradient of several micro-batches (gradient accumulation for
   * an effective batch larger than fits one graph run). The loss reported is the micro-batches' mean.
   */
  async runAccumulated(microBatches: readonly Record<string, HostArray>[], learningRate: number): Promise<StepResult> {
    if (microBatches.length === 0) throw new RuntimeError("runAccumulated: no micro-batches");
    const result = await this.optimizer.step(microBatches, learningRate, this.stepCount + 1);
    this.stepCount++;
    return result;
  }

  /** Views of the current state (valid until the next step); copy before keeping. Read back from a GPU. */
  async state(): Promise<TrainingState> {
    return { step: this.stepCount, ...(await this.optimizer.state()) };
  }

  async release(): Promise<void> {
    await this.optimizer.release();
  }
}
