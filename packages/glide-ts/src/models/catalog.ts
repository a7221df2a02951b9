// The models glide-ts knows by name: the ones that ship in the repository's models/ folder (trained
// here by `npm run train:default`) and OpenAI's released checkpoints (downloaded into the cache).
// The sampling commands take a family (`--model`) and pick the family's model for their job.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { defaultCacheDir } from "../download/cache-dir.ts";
import { type CheckpointName, checkpointPath } from "../download/checkpoints.ts";
import { clipVocabularyPath } from "../download/clip-vocabulary.ts";
import { digestPath } from "../io/file-digest.ts";
import { SHIPPED_DIGESTS, shippedModelsDir } from "../io/known-digests.ts";
import { InvalidValueError } from "../validate.ts";

export type ModelKind = "text2im" | "inpaint" | "super-res" | "super-res-inpaint" | "clip";

/** A model file and what it is. */
export interface CatalogModel {
  name: string;
  kind: ModelKind;
  /** "32", or "32→128" for upsamplers. */
  resolution: string;
  /** Parameter count (from the file's shapes; for downloads, from the released shapes). */
  parameters: number;
  description: string;
  source: { shipped: string } | { released: CheckpointName };
  /** Bytes of a release's download (float32 weights: 4 bytes a parameter, plus a little framing). */
  downloadBytes?: number;
}

// The shipped weights' folder and their SHA-256 digests (models/SHA256SUMS), checked on every load.
export { SHIPPED_DIGESTS, shippedModelsDir } from "../io/known-digests.ts";

const released = (
  name: CheckpointName,
  kind: ModelKind,
  resolution: string,
  parameters: number,
  description: string,
): CatalogModel => ({
  name,
  kind,
  resolution,
  parameters,
  description,
  source: { released: name },
  downloadBytes: parameters * 4,
});

/** Every named model; the shipped ones first. */
export const CATALOG: readonly CatalogModel[] = [
  {
    name: "glide-ts-base32",
    kind: "text2im",
    resolution: "32",
    parameters: 12_759_558,
    description: "shipped: text-to-image base trained here on emoji and clip art (models/README.md)",
    source: { shipped: "glide-ts-base32.safetensors" },
  },
  {
    name: "glide-ts-upsample128",
    kind: "super-res",
    resolution: "32→128",
    parameters: 11_660_806,
    description: "shipped: 4× diffusion upsampler for glide-ts-base32",
    source: { shipped: "glide-ts-upsample128.safetensors" },
  },
  released("base", "text2im", "64", 385_030_726, "OpenAI GLIDE (filtered) base"),
  released("upsample", "super-res", "64→256", 398_361_286, "OpenAI GLIDE (filtered) upsampler"),
  released("base-inpaint", "inpaint", "64", 385_037_638, "OpenAI GLIDE (filtered) inpainting base"),
  released(
    "upsample-inpaint",
    "super-res-inpaint",
    "64→256",
    398_368_198,
    "OpenAI GLIDE (filtered) inpainting upsampler",
  ),
  released("clip/image-enc", "clip", "64", 86_443_776, "GLIDE's noised CLIP image encoder"),
  released("clip/text-enc", "clip", "-", 71_679_488, "GLIDE's CLIP text encoder"),
];

/** Which model each sampling command uses, per family. */
export interface ModelFamily {
  description: string;
  generate: { base: string; upsampler: string };
  /** Editing: an inpainting model, or a text2im model (the known region re-noised at every step). */
  edit: { base: string; upsampler: string };
  upsample: string;
}

export const MODEL_FAMILIES: Record<string, ModelFamily> = {
  "glide-ts": {
    description: "the models shipped in models/ (32×32, upsampled to 128×128); no download",
    generate: { base: "glide-ts-base32", upsampler: "glide-ts-upsample128" },
    edit: { base: "glide-ts-base32", upsampler: "glide-ts-upsample128" },
    upsample: "glide-ts-upsample128",
  },
  glide: {
    description: "OpenAI's released GLIDE (64×64, upsampled to 256×256); `glide download` first (≈1.5–1.6 GB each)",
    generate: { base: "base", upsampler: "upsample" },
    edit: { base: "base-inpaint", upsampler: "upsample-inpaint" },
    upsample: "upsample",
  },
};

export const DEFAULT_MODEL_FAMILY = "glide-ts";
/** For help texts. */
export const CATALOG_HINT =
  '"glide-ts": shipped 32→128 models, no download; "glide": OpenAI\'s released 64→256 models, ≈1.5 GB each to download; `glide models` lists them';
export const MODEL_FAMILY_NAMES = Object.keys(MODEL_FAMILIES);

export function catalogModel(name: string): CatalogModel {
  const model = CATALOG.find((m) => m.name === name);
  if (!model) throw new InvalidValueError(`no model named '${name}'; \`glide models\` lists them`);
  return model;
}

/** Where the model's file is (shipped: in models/; released: in the cache), whether or not it exists. */
export function modelPath(model: CatalogModel, cacheDir: string = defaultCacheDir()): string {
  return "shipped" in model.source
    ? `${shippedModelsDir()}${model.source.shipped}`
    : checkpointPath(model.source.released, cacheDir);
}

/**
 * Every file the named models are loaded from or checked against: each model's weights (shipped, or
 * in the cache), the shipped digests, each download's recorded digest, and CLIP's vocabulary. A
 * command never writes over one of them.
 */
export function catalogFiles(cacheDir: string = defaultCacheDir()): { label: string; path: string }[] {
  const files = CATALOG.flatMap((model) => {
    const path = modelPath(model, cacheDir);
    const weights = { label: `model file of ${model.name}`, path };
    return "shipped" in model.source
      ? [weights]
      : [weights, { label: `recorded digest of ${model.name}`, path: digestPath(path) }];
  });
  files.push(
    { label: "shipped models' digests", path: join(shippedModelsDir(), SHIPPED_DIGESTS) },
    { label: "CLIP vocabulary", path: clipVocabularyPath(cacheDir) },
  );
  return files;
}

/** The file's size, or null when it is not there. */
export async function presentBytes(model: CatalogModel, cacheDir?: string): Promise<number | null> {
  const info = await stat(modelPath(model, cacheDir)).catch(() => null);
  return info?.isFile() ? info.size : null;
}
