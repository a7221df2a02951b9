// Loading GLIDE's noised CLIP for guided sampling: its two towers from one checkpoint holding both
// (keys prefixed `text_encoder.` / `image_encoder.`) or from one file per tower (the released
// `clip/text-enc` and `clip/image-enc`, keys without the prefix), with CLIP's BPE vocabulary.
import { resolveClipConfig } from "../clip/config.ts";
import { ClipError } from "../clip/errors.ts";
import { CLIP_TOWERS, ClipModel, type ClipTower } from "../clip/model.ts";
import { ClipTokenizer } from "../clip/tokenizer.ts";
import { loadClipTokenizer } from "../clip/vocabulary.ts";
import type { StateDict } from "../io/host-tensor.ts";
import { PipelineError } from "./errors.ts";
import { readCheckpoint } from "./load-model.ts";

/** A checkpoint as loadModel takes it: a location the platform reads, or safetensors bytes. */
type CheckpointSource = string | Uint8Array;

export interface ClipSource {
  /** One checkpoint with both towers (keys prefixed `text_encoder.` and `image_encoder.`). */
  checkpoint?: CheckpointSource;
  /** The image tower's own file (`clip/image-enc`); keys with or without the `image_encoder.` prefix. */
  imageEncoder?: CheckpointSource;
  /** The text tower's own file (`clip/text-enc`); keys with or without the `text_encoder.` prefix. */
  textEncoder?: CheckpointSource;
  /**
   * CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, downloaded next to the checkpoints): a
   * location, the file's bytes (gzip or plain text), or a tokenizer already made from it.
   */
  vocabulary: string | Uint8Array | ClipTokenizer;
  /** Keys of the reference clip/config.yaml over the released configuration (e.g. for other sizes). */
  config?: Readonly<Record<string, unknown>>;
}

const labelOf = (source: CheckpointSource) => (typeof source === "string" ? source : "CLIP checkpoint bytes");

/** The keys of `tower` in a state dict: those under its prefix, or every key when none has a tower prefix. */
export function towerStateDict(stateDict: StateDict, tower: ClipTower, label: string): StateDict {
  const prefixed = [...stateDict.keys()].some((k) => CLIP_TOWERS.some((t) => k.startsWith(`${t}.`)));
  if (!prefixed) return stateDict;
  const prefix = `${tower}.`;
  const own: StateDict = new Map();
  for (const [key, value] of stateDict) if (key.startsWith(prefix)) own.set(key.slice(prefix.length), value);
  if (own.size === 0) throw new PipelineError(`${label}: holds no '${prefix}' parameters (the CLIP ${tower})`);
  return own;
}

export async function loadClip(source: ClipSource): Promise<ClipModel> {
  const towers: Record<ClipTower, CheckpointSource | undefined> = {
    text_encoder: source.textEncoder ?? source.checkpoint,
    image_encoder: source.imageEncoder ?? source.checkpoint,
  };
  for (const tower of CLIP_TOWERS) {
    if (towers[tower] === undefined) {
      throw new PipelineError(
        `CLIP: no checkpoint for the ${tower}; give \`checkpoint\` (both towers) or \`textEncoder\` and \`imageEncoder\``,
      );
    }
  }
  if (source.vocabulary === undefined) {
    throw new PipelineError(`CLIP: no vocabulary; give the location or bytes of bpe_simple_vocab_16e6.txt.gz`);
  }
  let config: ReturnType<typeof resolveClipConfig>;
  try {
    config = resolveClipConfig(source.config ?? {});
  } catch (error) {
    if (error instanceof ClipError) throw new PipelineError(`CLIP configuration: ${error.message}`);
    throw error;
  }
  const tokenizer =
    source.vocabulary instanceof ClipTokenizer ? source.vocabulary : await loadClipTokenizer(source.vocabulary);
  const files = new Map<CheckpointSource, Promise<StateDict>>();
  const read = (where: CheckpointSource) => {
    let file = files.get(where);
    if (!file) {
      file = readCheckpoint(where, labelOf(where)).then((c) => c.stateDict);
      files.set(where, file);
    }
    return file;
  };
  const stateDicts = {} as Record<ClipTower, StateDict>;
  const labels = {} as Record<ClipTower, string>;
  for (const tower of CLIP_TOWERS) {
    const where = towers[tower]!;
    labels[tower] = `${labelOf(where)} (CLIP ${tower})`;
    stateDicts[tower] = towerStateDict(await read(where), tower, labelOf(where));
  }
  return ClipModel.fromStateDicts(config, stateDicts, { labels, tokenizer });
}
