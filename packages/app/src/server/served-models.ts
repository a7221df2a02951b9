// Which models a server runs: a family's (the shipped glide-ts ones, or OpenAI's released GLIDE
// from the download cache) or given checkpoints, for generation (and variations) and for edits.
import { basename, extname } from "node:path";
import type { ModelSource } from "glide-ts";
import { DEFAULT_MODEL_FAMILY, type ModelChoice, modelFamily, namedModelSource } from "glide-ts";

export interface StageSources {
  base: ModelSource;
  upsampler: ModelSource | null;
}

export interface ServedModelSources {
  /** The model's name in the API (`model`, GET /v1/models). */
  id: string;
  generate: StageSources;
  /** Edits: their models, or why there are none. */
  edit: StageSources | { unavailable: string };
}

/** The sources of the models to serve, from the same choice the sampling commands take. */
export async function resolveServedModels(choice: ModelChoice): Promise<ServedModelSources> {
  const upsample = choice.upsample !== false;
  const givenUpsampler: ModelSource | null =
    upsample && choice.upsampler !== undefined
      ? { checkpoint: choice.upsampler, preset: choice.upsamplerPreset, config: choice.upsamplerConfig }
      : null;
  if (choice.checkpoint !== undefined) {
    const stages: StageSources = {
      base: { checkpoint: choice.checkpoint, preset: choice.preset, config: choice.config },
      upsampler: givenUpsampler,
    };
    // A text2im model edits too (the known region re-noised at every step).
    return { id: basename(choice.checkpoint, extname(choice.checkpoint)), generate: stages, edit: stages };
  }
  const name = choice.family ?? DEFAULT_MODEL_FAMILY;
  const family = modelFamily(name);
  // A configuration given by the user replaces the named model's preset (as the sampling commands do).
  const named = async (model: string, alternative: string, file: { preset?: string; config?: string }) => {
    const source = await namedModelSource(model, alternative, choice.cacheDir);
    const preset = file.preset ?? (file.config === undefined ? source.preset : undefined);
    return { ...source, preset, config: file.config };
  };
  const baseFile = { preset: choice.preset, config: choice.config };
  const upsamplerFile = { preset: choice.upsamplerPreset, config: choice.upsamplerConfig };
  const familyUpsampler = async (model: string) =>
    givenUpsampler ?? (upsample ? await named(model, "--upsampler PATH, or --no-upsample", upsamplerFile) : null);
  const generate: StageSources = {
    base: await named(family.generate.base, "--checkpoint PATH", baseFile),
    upsampler: await familyUpsampler(family.generate.upsampler),
  };
  let edit: ServedModelSources["edit"];
  try {
    edit = {
      base: await named(family.edit.base, "--checkpoint PATH", baseFile),
      upsampler: await familyUpsampler(family.edit.upsampler),
    };
  } catch (error) {
    edit = { unavailable: `edits are not available on this server: ${(error as Error).message}` };
  }
  return { id: name, generate, edit };
}
