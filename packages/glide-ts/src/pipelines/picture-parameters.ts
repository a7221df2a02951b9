// How a picture was made, as text chunks of its PNG: `parameters` in the form AUTOMATIC1111-style
// tools read ("PROMPT\nSteps: 25, Sampler: …, Seed: 7, …"), and `glide-ts` with every setting as
// JSON, which `glide info PICTURE.png` prints and which reproduces the picture.
import type { PipelineResult, StageSettings } from "./types.ts";

export interface PictureModel {
  /** A catalog name or a file name. */
  name: string;
  /** The file's SHA-256 (hex), when known. */
  sha256?: string;
}

export interface PictureParameters {
  prompt: string;
  /** This image's own seed: with it and a batch of 1 the picture is made again. */
  seed: number;
  /** The images of its run, and which of them this is (0-based): the run's seed was seed − index. */
  batchSize: number;
  index: number;
  width: number;
  height: number;
  model: PictureModel;
  base: StageSettings | null;
  upsampler: PictureModel | null;
  upsample: StageSettings | null;
  /** What made it, e.g. "glide-ts 0.1.0". */
  software: string;
}

export const PARAMETERS_KEY = "parameters";
export const SETTINGS_KEY = "glide-ts";

/** The parameters of image `index` of a pipeline's result. */
export function pictureParameters(
  result: PipelineResult,
  index: number,
  models: { model: PictureModel; upsampler: PictureModel | null },
  software: string,
): PictureParameters {
  const image = result.images[index]!;
  const { settings } = result;
  return {
    prompt: settings.prompt,
    seed: result.seeds[index]!,
    batchSize: settings.batchSize,
    index,
    width: image.width,
    height: image.height,
    model: models.model,
    base: settings.base,
    upsampler: settings.upsample ? models.upsampler : null,
    upsample: settings.upsample,
    software,
  };
}

/** The text chunks that carry `p`: the A1111-style line and the full JSON. */
export function parameterTexts(p: PictureParameters): Record<string, string> {
  const stage = p.base ?? p.upsample;
  const fields: [string, string | number | null | undefined][] = [
    ["Steps", stage?.steps],
    ["Sampler", stage?.sampler],
    ["CFG scale", stage?.guidanceScale],
    ["Seed", p.seed],
    ["Size", `${p.width}x${p.height}`],
    ["Model hash", p.model.sha256?.slice(0, 10)],
    ["Model", p.model.name],
    ["Batch size", p.batchSize > 1 ? p.batchSize : null],
    ["Batch pos", p.batchSize > 1 ? p.index : null],
    ["Hires upscaler", p.upsampler?.name],
    ["Hires steps", p.upsample && p.base ? p.upsample.steps : null],
    ["Version", p.software],
  ];
  const line = fields
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${key}: ${value}`)
    .join(", ");
  return { [PARAMETERS_KEY]: `${p.prompt}\n${line}`, [SETTINGS_KEY]: JSON.stringify(p) };
}

/** The parameters a picture's text chunks carry, or null when it has none of ours. */
export function readPictureParameters(texts: Readonly<Record<string, string>>): PictureParameters | null {
  const json = texts[SETTINGS_KEY];
  if (json === undefined) return null;
  try {
    return JSON.parse(json) as PictureParameters;
  } catch {
    return null;
  }
}
