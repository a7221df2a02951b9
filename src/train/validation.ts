// The validation loss: held-out pairs with fixed timesteps and noise, so the figure is comparable
// from one evaluation to the next and between runs.
import type { Dataset } from "../data/dataset.ts";
import * as g from "../graph/index.ts";
import { CompiledGraph, type HostArray, type SessionOptions } from "../runtime/session.ts";
import { Rng } from "../util/rng.ts";
import { assembleBatch, type TrainingExample } from "./batch.ts";
import type { TrainingGraph } from "./objective-graph.ts";

export interface ValidationSet {
  batches: Record<string, HostArray>[];
  pairs: number;
}

/**
 * Up to `maxPairs` pairs of `dataset` (read in order), cut into batches of the graph's size, with
 * timesteps spread evenly over the process and noise from a generator of its own. No caption dropout.
 */
export async function buildValidationSet(
  graph: TrainingGraph,
  dataset: Dataset,
  maxPairs: number,
  seed: number,
): Promise<ValidationSet> {
  const examples: TrainingExample[] = [];
  for await (const sample of dataset) {
    if (examples.length >= maxPairs) break;
    examples.push({ image: sample.image, caption: sample.caption });
  }
  const rng = new Rng(seed);
  const steps = graph.diffusion.numTimesteps;
  const batches: Record<string, HostArray>[] = [];
  const usable = examples.length - (examples.length % graph.batch);
  for (let start = 0; start < usable; start += graph.batch) {
    const timesteps = Array.from({ length: graph.batch }, (_, i) => Math.floor((((start + i) * 0.618034) % 1) * steps));
    const { feeds } = assembleBatch(graph, examples.slice(start, start + graph.batch), rng, {
      captionDropout: 0,
      timesteps,
    });
    batches.push(feeds);
  }
  return { batches, pairs: usable };
}

/** Computes the mean loss of a training graph for given parameter values, without updating anything. */
export class LossEvaluator {
  private constructor(private readonly session: CompiledGraph) {}

  static async create(graph: TrainingGraph, options: SessionOptions = {}): Promise<LossEvaluator> {
    const session = await CompiledGraph.compile(
      { loss: graph.loss, mse: g.mean(graph.perSample.mse), vb: g.mean(graph.perSample.vb) },
      { ...options, params: "inputs" },
    );
    return new LossEvaluator(session);
  }

  /** Mean loss, MSE and VB terms over the set's batches. */
  async evaluate(
    set: ValidationSet,
    params: Record<string, Float32Array>,
  ): Promise<{ loss: number; mse: number; vb: number }> {
    const total = { loss: 0, mse: 0, vb: 0 };
    for (const batch of set.batches) {
      const out = await this.session.run({ ...params, ...batch });
      for (const key of ["loss", "mse", "vb"] as const)
        total[key] += (out[key] as Float32Array)[0]! / set.batches.length;
    }
    return total;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
