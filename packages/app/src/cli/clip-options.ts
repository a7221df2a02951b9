// `--clip-guidance SCALE` and the CLIP files of generate and edit: checked and found before the
// base model is loaded, loaded once the base model's image size is known.
import type { Command } from "commander";
import { type ClipFiles, type ClipGuidanceOptions, loadClipFor, resolveClipFiles } from "glide-ts";
import { UsageError } from "./errors.ts";
import { parseNonNegative } from "./parse.ts";

export interface ClipCommandOptions {
  clipGuidance?: number;
  clipImageEnc?: string;
  clipTextEnc?: string;
  clipVocab?: string;
  clipConfig?: string;
}

const FILE_FLAGS = [
  ["clipImageEnc", "--clip-image-enc"],
  ["clipTextEnc", "--clip-text-enc"],
  ["clipVocab", "--clip-vocab"],
  ["clipConfig", "--clip-config"],
] as const;

export function addClipOptions(command: Command): void {
  command
    .option(
      "--clip-guidance <scale>",
      "also guide the base model with GLIDE's noised CLIP at this scale (the original's notebook: 3); " +
        "`glide download clip-image-enc clip-text-enc` first, or give the files below",
      parseNonNegative("--clip-guidance"),
    )
    .option("--clip-image-enc <file>", "CLIP image encoder checkpoint instead of the cached clip/image-enc")
    .option("--clip-text-enc <file>", "CLIP text encoder checkpoint instead of the cached clip/text-enc")
    .option("--clip-vocab <file>", "CLIP's bpe_simple_vocab_16e6.txt.gz instead of the cached one")
    .option("--clip-config <file>", "JSON file of the CLIP's configuration (clip/config.yaml keys; default: released)");
}

/** The CLIP files to use, found now (null without guidance); a file option without the scale is an error. */
export async function prepareClip(options: ClipCommandOptions): Promise<ClipFiles | null> {
  if (options.clipGuidance === undefined) {
    const stray = FILE_FLAGS.find(([key]) => options[key] !== undefined);
    if (stray) throw new UsageError(`${stray[1]} needs --clip-guidance SCALE`);
    return null;
  }
  if (options.clipGuidance === 0) return null;
  return resolveClipFiles({
    imageEncoder: options.clipImageEnc,
    textEncoder: options.clipTextEnc,
    vocabulary: options.clipVocab,
    config: options.clipConfig,
  });
}

/** The pipelines' clipGuidance option for a base model of `imageSize` (undefined without guidance). */
export async function clipGuidance(
  files: ClipFiles | null,
  options: ClipCommandOptions,
  imageSize: number,
): Promise<ClipGuidanceOptions | undefined> {
  if (!files) return undefined;
  return { model: await loadClipFor(files, imageSize), scale: options.clipGuidance! };
}
