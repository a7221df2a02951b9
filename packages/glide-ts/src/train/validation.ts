// The validation loss: held-out pairs with fixed timesteps and noise, so the figure is comparable
// from one evaluation to the next and between runs.
import type { Dataset } from "../data/dataset.ts";
import * as g from "../graph/index.ts";
import { CompiledGraph, type HostArray, type SessionOptions } from "../runtime/session.ts";
import { Rng } from "../util/rng.ts";
import { assembleBatch, type TrainingExample } from "./batch.ts";
import { tokenizeCaptions } from "./batch-captions.ts";
import { TRAINING_INPUTS, type TrainingGraph } from "./objective-graph.ts";

export interface ValidationSet {
  batches: Record<string, HostArray>[];
  /**
   * The same batches (images, timesteps, noise) with every caption empty, for a model that reads
   * text: the gap between the two losses is what the captions tell the model.
   */
  uncaptioned?: Record<string, HostArray>[];
  pairs: number;
}

/** A validation figure: the loss terms, and for a text model the ε MSE without captions. */
export interface ValidationFigures {
  loss: number;
  mse: number;
  vb: number;
  /** ε MSE of the same pairs with empty captions (text models only). */
  uncaptioned_mse?: number;
  /**
   * 1 − mse / uncaptioned_mse: the share of the uncaptioned ε error that the captions remove. Near 0
   * while a model ignores its captions; it grows as caption following is learned, long before
   * samples show it.
   */
  caption_gain?: number;
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
  if (graph.textCtx === null) return { batches, pairs: usable };
  const empty = tokenizeCaptions(Array<string>(graph.batch).fill(""), graph.textCtx);
  const uncaptioned = batches.map((feeds) => ({
    ...feeds,
    [TRAINING_INPUTS.tokens]: empty.tokens,
    ...(graph.usesTextMask ? { [TRAINING_INPUTS.mask]: empty.mask } : {}),
  }));
  return { batches, uncaptioned, pairs: usable };
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

  /** Mean loss, MSE and VB terms over the set's batches, and the caption gain where it applies. */
  async evaluate(set: ValidationSet, params: Record<string, Float32Array>): Promise<ValidationFigures> {
    const total: ValidationFigures = { loss: 0, mse: 0, vb: 0 };
    for (const batch of set.batches) {
      const out = await this.session.run({ ...params, ...batch });
      for (const key of ["loss", "mse", "vb"] as const)
        total[key] += (out[key] as Float32Array)[0]! / set.batches.length;
    }
    if (set.uncaptioned && set.uncaptioned.length > 0) {
      let mse = 0;
      for (const batch of set.uncaptioned) {
        const out = await this.session.run({ ...params, ...batch });
        mse += (out.mse as Float32Array)[0]! / set.uncaptioned.length;
      }
      total.uncaptioned_mse = mse;
      total.caption_gain = captionGain(total.mse, mse);
    }
    return total;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** 1 − captioned / uncaptioned ε MSE (0 when the uncaptioned error is 0). */
export function captionGain(mse: number, uncaptionedMse: number): number {
  return uncaptionedMse > 0 ? 1 - mse / uncaptionedMse : 0;
}
