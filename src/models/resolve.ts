// Turning model names into loadable sources: a family's model for a job (generate, edit,
// upsample), a shipped model's file in models/, a released one's in the download cache.
import { type CheckpointName, formatBytes, requireCheckpoint } from "../io/download.ts";
import { PipelineError } from "../pipelines/errors.ts";
import type { ModelSource } from "../pipelines/load-model.ts";
import {
  catalogModel,
  DEFAULT_MODEL_FAMILY,
  MODEL_FAMILIES,
  MODEL_FAMILY_NAMES,
  type ModelFamily,
  modelPath,
  presentBytes,
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
