// Training checkpoints: parameters, AdamW moments, EMA and everything needed to resume exactly
// (step, generator state, data position, options), written atomically as safetensors. Beside it the
// trainer writes the EMA weights alone under the reference keys, which any command can load.

import { TRAINING_CHECKPOINT_FORMAT } from "../io/checkpoint-contents.ts";
import { CheckpointError } from "../io/errors.ts";
import { readSafetensors, type WritableTensor, writeSafetensors } from "../io/safetensors.ts";
import type { TrainingState } from "./optimizer.ts";

/** JSON-serializable facts about the run that the tensors do not hold. */
export interface TrainingMeta {
  step: number;
  [key: string]: unknown;
}

const PREFIX = { adamM: "adam_m.", adamV: "adam_v.", ema: "ema." } as const;

function tensor(shape: readonly number[], data: Float32Array): WritableTensor {
  return { shape: [...shape], data, sourceDtype: "float32" };
}

/**
 * Writes the whole training state to `path` atomically (a temp file, then rename): a failed write
 * (a full disk) leaves the previous checkpoint as it was.
 */
export async function saveTrainingCheckpoint(
  path: string,
  state: TrainingState,
  shapes: ReadonlyMap<string, readonly number[]>,
  meta: TrainingMeta,
): Promise<void> {
  const tensors = new Map<string, WritableTensor>();
  for (const [name, value] of state.params) tensors.set(name, tensor(shapes.get(name)!, value));
  for (const [name, value] of state.adamM) tensors.set(PREFIX.adamM + name, tensor(shapes.get(name)!, value));
  for (const [name, value] of state.adamV) tensors.set(PREFIX.adamV + name, tensor(shapes.get(name)!, value));
  for (const [name, value] of state.ema ?? []) tensors.set(PREFIX.ema + name, tensor(shapes.get(name)!, value));
  await writeSafetensors(path, tensors, {
    format: TRAINING_CHECKPOINT_FORMAT,
    meta: JSON.stringify({ ...meta, step: state.step }),
  });
}

/** Writes plain weights (the EMA, or the parameters) under the reference keys, loadable by every command. */
export async function saveWeights(
  path: string,
  weights: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors = new Map<string, WritableTensor>();
  for (const [name, value] of weights) tensors.set(name, tensor(shapes.get(name)!, value));
  await writeSafetensors(path, tensors, metadata);
}

export async function loadTrainingCheckpoint(path: string): Promise<{ state: TrainingState; meta: TrainingMeta }> {
  const file = await readSafetensors(path);
  if (file.metadata?.format !== TRAINING_CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `${path}: not a glide-ts training checkpoint (no '${TRAINING_CHECKPOINT_FORMAT}' marker)`,
    );
  }
  let meta: TrainingMeta;
  try {
    meta = JSON.parse(file.metadata.meta ?? "") as TrainingMeta;
  } catch {
    throw new CheckpointError(`${path}: the training checkpoint's metadata is not valid JSON`);
  }
  const state: TrainingState = { step: meta.step, params: new Map(), adamM: new Map(), adamV: new Map(), ema: null };
  const ema = new Map<string, Float32Array>();
  for (const name of file.names()) {
    const data = file.float32(name);
    if (name.startsWith(PREFIX.adamM)) state.adamM.set(name.slice(PREFIX.adamM.length), data);
    else if (name.startsWith(PREFIX.adamV)) state.adamV.set(name.slice(PREFIX.adamV.length), data);
    else if (name.startsWith(PREFIX.ema)) ema.set(name.slice(PREFIX.ema.length), data);
    else state.params.set(name, data);
  }
  if (ema.size > 0) state.ema = ema;
  return { state, meta };
}
