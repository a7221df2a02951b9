// The CLIP parity fixtures (../shared/fixtures/clip-parity): the original implementation's noised
// CLIP on tiny random weights, its vocabulary file, a tiny GLIDE base model and a guided run.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ClipModel } from "../../packages/glide-ts/src/clip/model.ts";
import type { ClipTokenizer } from "../../packages/glide-ts/src/clip/tokenizer.ts";
import { loadClipTokenizer } from "../../packages/glide-ts/src/clip/vocabulary.ts";
import type { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { loadClip } from "../../packages/glide-ts/src/pipelines/load-clip.ts";
import { loadModel } from "../../packages/glide-ts/src/pipelines/load-model.ts";

export const CLIP_FIXTURES = resolve(process.cwd(), "../shared/fixtures/clip-parity");
export const clipFixturePath = (name: string): string => join(CLIP_FIXTURES, name);
export const VOCABULARY = clipFixturePath("bpe_simple_vocab_16e6.txt.gz");

interface ClipManifest {
  cases: {
    clip: { config: Record<string, unknown>; checkpoint: string; io_case: { prompts: string[]; grad_scale: number } };
    base: { config: Record<string, unknown>; checkpoint: string };
    [name: string]: Record<string, unknown>;
  };
}

let manifest: ClipManifest | null = null;
export function clipManifest(): ClipManifest {
  manifest ??= JSON.parse(readFileSync(clipFixturePath("manifest.json"), "utf-8")) as ClipManifest;
  return manifest;
}

let tokenizer: Promise<ClipTokenizer> | null = null;
export function fixtureTokenizer(): Promise<ClipTokenizer> {
  tokenizer ??= loadClipTokenizer(VOCABULARY);
  return tokenizer;
}

let clip: Promise<ClipModel> | null = null;
/** The fixture's tiny noised CLIP (16×16 images), loaded once per test file. */
export function fixtureClip(): Promise<ClipModel> {
  clip ??= fixtureTokenizer().then((vocabulary) =>
    loadClip({
      checkpoint: clipFixturePath(clipManifest().cases.clip.checkpoint),
      vocabulary,
      config: clipManifest().cases.clip.config,
    }),
  );
  return clip;
}

let base: Promise<GlideModel> | null = null;
/** The fixture's tiny GLIDE base model (16×16, the same schedule as the CLIP). */
export function fixtureBase(): Promise<GlideModel> {
  const c = clipManifest().cases.base;
  base ??= loadModel({ checkpoint: clipFixturePath(c.checkpoint), config: c.config }).then((m) => m.model);
  return base;
}
