// The trainer's held-out loss for a loaded model: the same split, the same pairs (the validation
// side in file order), timesteps spread the same way and noise from a fixed seed.

import type { GlideModel, SessionOptions } from "glide-ts";
import { openDataset } from "glide-ts";
import { buildTrainingGraph, buildValidationSet, captionGain, graph as g, LossEvaluator } from "glide-ts/internals";

/** `glide train`'s default --seed is 0 and its validation noise uses seed + 1. */
export const VALIDATION_SEED = 1;
/** Pairs per graph run, at most. */
const MAX_BATCH = 8;

export interface ValidationLoss {
  loss: number;
  mse: number;
  vb: number;
  /** ε MSE of the same pairs, timesteps and noise with empty captions. */
  uncaptionedMse: number;
  /** 1 − mse / uncaptionedMse: how much of the ε error the captions remove. */
  captionGain: number;
  /** Pairs evaluated. */
  pairs: number;
}

export interface ValidationLossOptions {
  model: GlideModel;
  data: string;
  validationFraction: number;
  /** Pairs asked for; at most the validation split's. */
  pairs: number;
  /** The validation split's size (known from the corpus index), so the batch divides what is there. */
  available: number;
  session?: SessionOptions;
  onBatch?: (done: number, total: number) => void;
}

/** Null when the split holds no validation pair. */
export async function validationLoss(options: ValidationLossOptions): Promise<ValidationLoss | null> {
  const { model } = options;
  const wanted = Math.min(options.pairs, options.available);
  if (wanted < 1 || options.validationFraction <= 0) return null;
  const held = await openDataset(options.data, {
    resolution: model.config.image_size,
    shuffle: false,
    epochs: 1,
    split: { split: "validation", validationFraction: options.validationFraction },
  });
  const graph = buildTrainingGraph(model, { batch: batchFor(wanted), dropout: false });
  const set = await buildValidationSet(graph, held, wanted, VALIDATION_SEED);
  if (set.pairs === 0) return null;
  const params: Record<string, Float32Array> = {};
  for (const p of graph.params) {
    const { name, value } = g.paramAttrs(p);
    // A model whose sessions moved its weights to a file has no values here.
    if (!value) throw new Error(`validation loss: parameter '${name}' has no value (load with weightsInMemory: true)`);
    params[name] = value;
  }
  const evaluator = await LossEvaluator.create(graph, options.session);
  try {
    // One batch at a time, for the progress; the mean over batches is the evaluator's.
    const total = { loss: 0, mse: 0, vb: 0, uncaptionedMse: 0 };
    for (let i = 0; i < set.batches.length; i++) {
      const one = await evaluator.evaluate(
        { batches: [set.batches[i]!], uncaptioned: [set.uncaptioned![i]!], pairs: graph.batch },
        params,
      );
      for (const key of ["loss", "mse", "vb"] as const) total[key] += one[key] / set.batches.length;
      total.uncaptionedMse += one.uncaptioned_mse! / set.batches.length;
      options.onBatch?.(i + 1, set.batches.length);
    }
    return { ...total, captionGain: captionGain(total.mse, total.uncaptionedMse), pairs: set.pairs };
  } finally {
    await evaluator.release();
  }
}

/** The largest batch up to MAX_BATCH that divides `pairs`, so that every pair asked for is used. */
export function batchFor(pairs: number): number {
  for (let b = Math.min(MAX_BATCH, pairs); b > 1; b--) if (pairs % b === 0) return b;
  return 1;
}
