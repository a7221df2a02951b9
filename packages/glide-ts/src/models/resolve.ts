// Turning model names into loadable sources: a family's model for a job (generate, edit,
// upsample), a shipped model's file in models/, a released one's in the download cache.
import { basename } from "node:path";
import { type CheckpointName, formatBytes, requireCheckpoint } from "../download/checkpoints.ts";
import { verifyDigest } from "../io/file-digest.ts";
import { knownDigest } from "../io/known-digests.ts";
import { PipelineError } from "../pipelines/errors.ts";
import { type LoadedModel, loadModel, type ModelSource } from "../pipelines/load-model.ts";
import {
  catalogModel,
  DEFAULT_MODEL_FAMILY,
  MODEL_FAMILIES,
  MODEL_FAMILY_NAMES,
  type ModelFamily,
  modelPath,
  presentBytes,
  SHIPPED_DIGESTS,
} from "./catalog.ts";

export type ModelJob = "generate" | "edit";

export function modelFamily(name: string | undefined): ModelFamily {
  const family = MODEL_FAMILIES[name ?? DEFAULT_MODEL_FAMILY];
  if (!family) throw new PipelineError(`unknown model family '${name}' (known: ${MODEL_FAMILY_NAMES.join(", ")})`);
  return family;
}

/**
 * The source of a catalog model: its file (shipped weights carry their configuration; a release's
 * preset has its name), or an error saying how to get it, ending with what else the user may pass.
 */
export async function namedModelSource(name: string, alternative: string, cacheDir?: string): Promise<ModelSource> {
  const model = catalogModel(name);
  if ("shipped" in model.source) {
    const path = modelPath(model);
    if ((await presentBytes(model)) === null) {
      throw new PipelineError(
        `the shipped model ${name} is missing (${path}); reinstall glide-ts, or pass ${alternative}`,
      );
    }
    await verifyShippedDigest(path);
    return { checkpoint: path };
  }
  const release: CheckpointName = model.source.released;
  try {
    return { checkpoint: await requireCheckpoint(release, cacheDir), preset: release };
  } catch (error) {
    const size = model.downloadBytes ? ` (≈${formatBytes(model.downloadBytes)})` : "";
    throw new PipelineError(
      `${(error as Error).message}${size}; or pass ${alternative} (glide download caches in $GLIDE_CACHE, else ~/.cache/glide-ts)`,
    );
  }
}

/** Checks a shipped model's file against models/SHA256SUMS (the digests committed with the weights). */
async function verifyShippedDigest(path: string): Promise<void> {
  const known = await knownDigest(path);
  if (!known) throw new PipelineError(`models/${SHIPPED_DIGESTS} has no digest for ${basename(path)}`);
  await verifyDigest(path, known.sha256, known.remedy);
}

/** Which models a run uses: a family's, or files given explicitly (the CLI's --model, --checkpoint, …). */
export interface ModelChoice {
  /** A family name (default "glide-ts"). */
  family?: string;
  /** The base model's file instead of the family's, with its preset or configuration file. */
  checkpoint?: string;
  preset?: string;
  config?: string;
  /** The upsampler's file; without it the family's is used only when the base model is the family's. */
  upsampler?: string;
  upsamplerPreset?: string;
  upsamplerConfig?: string;
  /** false: no upsampler. */
  upsample?: boolean;
  /** The download cache (default: $GLIDE_CACHE, else ~/.cache/glide-ts). */
  cacheDir?: string;
}

/** A named model, or a file when one is given, loaded. */
async function loadChosen(
  named: string,
  file: { checkpoint?: string; preset?: string; config?: string },
  alternative: string,
  cacheDir?: string,
): Promise<LoadedModel> {
  if (file.checkpoint !== undefined) return loadModel({ ...file, checkpoint: file.checkpoint });
  const source = await namedModelSource(named, alternative, cacheDir);
  // A configuration given by the user replaces the named model's preset.
  const preset = file.preset ?? (file.config === undefined ? source.preset : undefined);
  return loadModel({ ...source, preset, config: file.config });
}

/** The base model and the upsampler (or null) for generating or editing. */
export async function loadModelsFor(
  job: ModelJob,
  choice: ModelChoice = {},
): Promise<{ base: LoadedModel; upsampler: LoadedModel | null }> {
  const named = modelFamily(choice.family)[job];
  const base = await loadChosen(
    named.base,
    { checkpoint: choice.checkpoint, preset: choice.preset, config: choice.config },
    "--checkpoint PATH",
    choice.cacheDir,
  );
  const wantsUpsampler =
    choice.upsample !== false && (choice.upsampler !== undefined || choice.checkpoint === undefined);
  const upsampler = wantsUpsampler
    ? await loadChosen(
        named.upsampler,
        { checkpoint: choice.upsampler, preset: choice.upsamplerPreset, config: choice.upsamplerConfig },
        "--upsampler PATH, or --no-upsample",
        choice.cacheDir,
      )
    : null;
  return { base, upsampler };
}

/** The upsampler for upsampling a picture: the file given, else the family's. */
export function loadUpsamplerFor(choice: ModelChoice = {}): Promise<LoadedModel> {
  return loadChosen(
    modelFamily(choice.family).upsample,
    { checkpoint: choice.checkpoint, preset: choice.preset, config: choice.config },
    "--checkpoint PATH",
    choice.cacheDir,
  );
}
