// What a model takes from a checkpoint, on any platform: the state dict (a table stored as its
// trained rows only is made whole: sparse-rows.ts) and the metadata. A glide-ts training checkpoint
// is read as its EMA weights (else its parameters), without the optimizer moments, with the run's
// configuration as `config` metadata.
import { GlideError } from "../errors.ts";
import type { CheckpointContents, StateDict } from "../platform/data-types.ts";
import { CheckpointError } from "./errors.ts";
import { parseSafetensors, type SafetensorsFile } from "./safetensors-format.ts";
import { restoreSparseRows } from "./sparse-rows.ts";

/** The `format` metadata of a glide-ts training checkpoint (weights, AdamW moments, EMA, run state). */
export const TRAINING_CHECKPOINT_FORMAT = "glide-ts-training/1";

export type { CheckpointContents } from "../platform/data-types.ts";

/** The model weights in a parsed safetensors file. */
export function safetensorsContents(file: SafetensorsFile): CheckpointContents {
  if (file.metadata.format !== TRAINING_CHECKPOINT_FORMAT) {
    const stateDict = file.toStateDict();
    restoreSparseRows(stateDict, file.metadata, file.source);
    return { stateDict, metadata: file.metadata };
  }
  const names = file.names();
  const hasEma = names.some((n) => n.startsWith("ema."));
  const stateDict: StateDict = new Map();
  for (const name of names) {
    if (hasEma ? name.startsWith("ema.") : !/^(adam_m|adam_v|ema)\./.test(name)) {
      stateDict.set(hasEma ? name.slice("ema.".length) : name, file.hostTensor(name));
    }
  }
  const metadata: Record<string, string> = { ...file.metadata, weights: hasEma ? "ema" : "parameters" };
  try {
    const meta = JSON.parse(file.metadata.meta ?? "{}") as { config?: unknown; step?: unknown };
    if (meta.config !== undefined) metadata.config = JSON.stringify(meta.config);
    if (meta.step !== undefined) metadata.step = String(meta.step);
  } catch {
    throw new CheckpointError(`${file.source}: the training checkpoint's metadata is not valid JSON`);
  }
  return { stateDict, metadata };
}

const ZIP_MAGIC = [0x50, 0x4b]; // "PK": a torch.save archive

/** A checkpoint held in memory: safetensors bytes (torch.save archives are read from files, in Node). */
export function checkpointFromBytes(bytes: Uint8Array, label: string): CheckpointContents {
  if (bytes[0] === ZIP_MAGIC[0] && bytes[1] === ZIP_MAGIC[1]) {
    throw new GlideError(
      `${label}: a torch.save (.pt) checkpoint can only be read from a file in Node; convert it once with ` +
        "`glide convert FILE.pt FILE.safetensors`",
    );
  }
  return safetensorsContents(parseSafetensors(bytes, label));
}
