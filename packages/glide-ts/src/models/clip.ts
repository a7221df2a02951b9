// GLIDE's noised CLIP for guided sampling from the command line: each file given explicitly, else
// the released one from the download cache (both towers and CLIP's vocabulary). Everything is
// checked before the weights are read: a missing file is named with the download that brings it,
// and a CLIP that sees another image size than the base model's is refused.
import { stat } from "node:fs/promises";
import { type ClipConfig, resolveClipConfig } from "../clip/config.ts";
import { ClipError } from "../clip/errors.ts";
import type { ClipModel } from "../clip/model.ts";
import { defaultCacheDir } from "../download/cache-dir.ts";
import { checkpointPath, formatBytes } from "../download/checkpoints.ts";
import { CLIP_VOCABULARY, clipVocabularyPath } from "../download/clip-vocabulary.ts";
import { PipelineError } from "../pipelines/errors.ts";
import { loadClip } from "../pipelines/load-clip.ts";
import { readConfigFile } from "../pipelines/load-model.ts";
import { catalogModel } from "./catalog.ts";

/** What the user named; anything left out comes from the cache. */
export interface ClipChoice {
  imageEncoder?: string;
  textEncoder?: string;
  vocabulary?: string;
  /** A JSON file of reference clip/config.yaml keys over the released configuration. */
  config?: string;
  /** The download cache (default: $GLIDE_CACHE, else ~/.cache/glide-ts). */
  cacheDir?: string;
}

/** The files of a CLIP, all present, and its configuration. */
export interface ClipFiles {
  imageEncoder: string;
  textEncoder: string;
  vocabulary: string;
  config: ClipConfig;
  /** The configuration is the released one (no config file given). */
  released: boolean;
}

/** Each file: its key, its name in messages, and what is missing when the cache lacks it. */
const FILES = [
  { key: "imageEncoder", what: "CLIP image encoder", release: "clip/image-enc" },
  { key: "textEncoder", what: "CLIP text encoder", release: "clip/text-enc" },
  { key: "vocabulary", what: "CLIP vocabulary", release: null },
] as const;

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() === true;
}

/** The files to load and the configuration; an error naming what is missing and how to get it. */
export async function resolveClipFiles(choice: ClipChoice = {}): Promise<ClipFiles> {
  const cacheDir = choice.cacheDir ?? defaultCacheDir();
  const files = { imageEncoder: "", textEncoder: "", vocabulary: "" };
  const notCached: string[] = [];
  for (const { key, what, release } of FILES) {
    const given = choice[key];
    const cached = release ? checkpointPath(release, cacheDir) : clipVocabularyPath(cacheDir);
    if (given !== undefined) {
      if (!(await isFile(given))) throw new PipelineError(`${what} '${given}': no such file`);
      files[key] = given;
    } else if (await isFile(cached)) {
      files[key] = cached;
    } else {
      notCached.push(release ?? CLIP_VOCABULARY.file);
    }
  }
  if (notCached.length > 0) {
    const sizes = ["clip/image-enc", "clip/text-enc"]
      .map((name) => `≈${formatBytes(catalogModel(name).downloadBytes ?? 0)}`)
      .join(" + ");
    throw new PipelineError(
      `CLIP guidance needs GLIDE's noised CLIP: ${notCached.join(", ")} not in ${cacheDir}; ` +
        `run \`glide download clip-image-enc clip-text-enc\` (${sizes}), ` +
        "or pass --clip-image-enc FILE --clip-text-enc FILE --clip-vocab FILE",
    );
  }
  let config: ClipConfig;
  try {
    config = resolveClipConfig(choice.config === undefined ? {} : await readConfigFile(choice.config));
  } catch (error) {
    if (error instanceof ClipError) throw new PipelineError(`CLIP config '${choice.config}': ${error.message}`);
    throw error;
  }
  return { ...files, config, released: choice.config === undefined };
}

/** The CLIP, once its image size is known to be the base model's (before its weights are read). */
export async function loadClipFor(files: ClipFiles, baseImageSize: number): Promise<ClipModel> {
  const size = files.config.image_size;
  if (size !== baseImageSize) {
    const hint = files.released ? " (the released CLIP guides the released 64×64 models: --model glide)" : "";
    throw new PipelineError(
      `CLIP guidance: the CLIP image encoder takes ${size}×${size} images, the base model makes ${baseImageSize}×${baseImageSize}${hint}`,
    );
  }
  return loadClip({
    imageEncoder: files.imageEncoder,
    textEncoder: files.textEncoder,
    vocabulary: files.vocabulary,
    config: { ...files.config },
  });
}
