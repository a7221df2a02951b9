// The noised CLIP of a parity directory: a manifest model case whose `config` holds the keys of the
// reference clip/config.yaml, with its `checkpoint` (both towers, prefixed, or one tower's keys) and
// the directory's CLIP vocabulary (`vocabulary`, default bpe_simple_vocab_16e6.txt.gz). Loaded once
// per parity run and shared by the cases that use it.
import {
  CLIP_TOWERS,
  CLIP_VOCABULARY_FILE,
  ClipModel,
  type ClipTower,
  loadCheckpointFile,
  loadClipTokenizer,
  resolveClipConfig,
  towerStateDict,
} from "glide-ts";
import type { StateDict } from "glide-ts/internals";
import { optionalString, stringField } from "../manifest.ts";
import { type ParityCase, ParityCaseError, type ParityContext } from "../types.ts";

/** Whether a manifest entry is a CLIP model case (its config has CLIP's keys, not GLIDE's). */
export function isClipModelCase(entry: Readonly<Record<string, unknown>>): boolean {
  const config = entry.config;
  return typeof config === "object" && config !== null && "n_head_state_text" in config;
}

const loaded = new WeakMap<ParityContext, Map<string, Promise<ClipModel>>>();

async function load(name: string, ctx: ParityContext): Promise<ClipModel> {
  const entry = ctx.manifest.cases[name];
  if (!entry) throw new ParityCaseError(`the manifest has no CLIP case '${name}'`);
  if (!isClipModelCase(entry)) throw new ParityCaseError(`case '${name}' is not a CLIP model case`);
  const c: ParityCase = { name, kind: "clip", entry };
  const config = resolveClipConfig(entry.config as Record<string, unknown>);
  const checkpoint = stringField(c, "checkpoint");
  const tokenizer = await loadClipTokenizer(ctx.resolve(optionalString(c, "vocabulary") ?? CLIP_VOCABULARY_FILE));
  const { stateDict } = await loadCheckpointFile(ctx.resolve(checkpoint));
  const stateDicts = {} as Record<ClipTower, StateDict>;
  for (const tower of CLIP_TOWERS) stateDicts[tower] = towerStateDict(stateDict, tower, checkpoint);
  return ClipModel.fromStateDicts(config, stateDicts, { tokenizer });
}

export function clipModel(name: string, ctx: ParityContext): Promise<ClipModel> {
  let models = loaded.get(ctx);
  if (!models) {
    models = new Map();
    loaded.set(ctx, models);
  }
  let model = models.get(name);
  if (!model) {
    model = load(name, ctx);
    models.set(name, model);
  }
  return model;
}

/** Largest |value| of an array, at least 1: what relative tolerances scale with. */
export function scaleOf(values: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}
