// Upsampling, as the reference's notebooks do it: the low-resolution picture rounded to 8 bits,
// the prompt without guidance, the starting noise scaled by a temperature (0.997); any sampler
// may be chosen, with DPM-Solver++ at 10 steps by default (the reference's DDIM fast27 measured
// worse on the shipped upsampler: README, "Sampler defaults").

import type { SamplerName, SamplerSpec } from "../diffusion/samplers/index.ts";
import type { GlideModel } from "../glide/model.ts";
import type { ImageSource, ResizeFit } from "../image/decode.ts";
import { quantize8bit, tensorToImages } from "../image/pixels.ts";
import { readImage } from "../image/read.ts";
import type { Precision } from "../int8/plan.ts";
import type { SessionOptions } from "../runtime/session.ts";
import { PipelineError } from "./errors.ts";
import { ImageNoise, imageSeeds } from "./image-seeds.ts";
import { repeatImage } from "./known-region.ts";
import {
  checkBatchSize,
  checkModelKind,
  checkPrecision,
  checkPrompt,
  checkTemperature,
  resolveSeed,
  samplerSpec,
} from "./options.ts";
import { stageProgress } from "./progress.ts";
import { type KnownRegion, type ModelSamplingResult, sampleModel } from "./sample-model.ts";
import { resolveSession } from "./session-options.ts";
import type { CommonOptions, PipelineResult, StageSettings, UpsampleStageOptions } from "./types.ts";

export const DEFAULT_UPSAMPLE_TEMPERATURE = 0.997;
/**
 * The upsampler's sampler in textToImage, variation and upsample (edit: DDPM, as the reference's
 * inpaint notebook). DPM-Solver++ at 10 steps, chosen by `npm run bench:samplers` on the shipped
 * upsampler: higher PSNR, low-frequency PSNR and SSIM against the true pictures than the
 * reference's DDIM fast27, at 10 model evaluations instead of 27 (the README's table).
 */
export const DEFAULT_UPSAMPLE_SAMPLER = "dpm++2m";
/** The upsampler's steps by sampler when none are given: the reference's fast27 but for DPM-Solver++. */
export const DEFAULT_UPSAMPLE_STEPS: Readonly<Record<SamplerName, number | string>> = {
  ddpm: "fast27",
  ddim: "fast27",
  plms: "fast27",
  "dpm++2m": 10,
};

/** The upsampler's default steps for a sampler (fast27 for a name that is none: samplerSpec refuses it). */
export function defaultUpsampleSteps(sampler: string): number | string {
  return DEFAULT_UPSAMPLE_STEPS[sampler as SamplerName] ?? "fast27";
}

export interface UpsampleOptions extends CommonOptions {
  /** The picture to upsample: resized to the upsampler's low-res size (image_size / 4, e.g. 64). */
  image: ImageSource;
  upsampler: GlideModel;
  /** Default "dpm++2m" (DEFAULT_UPSAMPLE_SAMPLER). */
  sampler?: string;
  /** Default 10 for dpm++2m, "fast27" for the others (DEFAULT_UPSAMPLE_STEPS). */
  steps?: number | string;
  /** Scale of the starting noise; default 0.997. */
  temperature?: number;
  /** Keep the output's block means equal to the picture; default the upsampler's `keepsLowRes`. */
  keepLowRes?: boolean;
  /** The low-res side the upsampler is fed (default image_size / 4). */
  lowResSize?: number;
  /** How a picture that is not square is made square (default "crop"). */
  fit?: ResizeFit;
}

/** Upsamples one picture `batchSize` times (image i with its own seed, S + i). */
export async function upsample(options: UpsampleOptions): Promise<PipelineResult> {
  const started = performance.now();
  const upsampler = checkModelKind(options.upsampler, "upsampler", "upsample");
  const prompt = checkPrompt(options.prompt);
  const n = checkBatchSize(options.batchSize ?? 1);
  const seed = resolveSeed(options.seed);
  const seeds = imageSeeds(seed, n);
  const lowResSize = options.lowResSize ?? upsampler.config.image_size / 4;
  if (!Number.isInteger(lowResSize) || lowResSize < 1) {
    throw new PipelineError(`low-res size must be a positive integer, got ${lowResSize}`);
  }
  const settings = upsampleSettings(
    upsampler,
    {
      upsampleSampler: options.sampler,
      upsampleSteps: options.steps,
      upsampleTemperature: options.temperature,
      upsampleKeepLowRes: options.keepLowRes,
    },
    DEFAULT_UPSAMPLE_SAMPLER,
  );
  const picture = await readImage(options.image, { size: lowResSize, fit: options.fit, label: "image" });
  const result = await upsampleStage({
    upsampler,
    settings,
    session: await resolveSession(options),
    precision: checkPrecision(options.precision),
    signal: options.signal,
    options,
    prompt,
    lowRes: repeatImage(picture.tensor, n),
    lowResSize,
    count: n,
    noise: new ImageNoise(seeds),
  });
  return {
    images: tensorToImages(result.samples, result.shape),
    samples: result.samples,
    shape: result.shape,
    lowRes: null,
    seed,
    seeds,
    settings: {
      prompt,
      seed,
      batchSize: n,
      base: null,
      upsample: upsampleStageSettings(upsampler, settings, result.steps),
    },
    timings: {
      base: null,
      upsample: { setup: result.setupSeconds, sampling: result.samplingSeconds, steps: result.steps },
      totalSeconds: (performance.now() - started) / 1000,
    },
  };
}

export interface UpsampleSettings {
  sampler: SamplerSpec;
  temperature: number;
  /** Keep the output's block means equal to the low-res input (low-res-consistency.ts). */
  keepLowRes: boolean;
}

/** The upsampling stage's sampler and temperature, checked (before any sampling starts). */
export function upsampleSettings(
  upsampler: GlideModel,
  options: UpsampleStageOptions,
  defaultSampler: string,
): UpsampleSettings {
  checkModelKind(upsampler, "upsampler", "upsampler");
  const sampler = options.upsampleSampler ?? defaultSampler;
  return {
    sampler: samplerSpec(sampler, options.upsampleSteps ?? defaultUpsampleSteps(sampler), upsampler, "upsampler"),
    temperature: checkTemperature(options.upsampleTemperature ?? DEFAULT_UPSAMPLE_TEMPERATURE),
    keepLowRes: options.upsampleKeepLowRes ?? upsampler.keepsLowRes,
  };
}

export interface UpsampleStageInput {
  upsampler: GlideModel;
  settings: UpsampleSettings;
  prompt: string;
  /** [N, 3, l, l] in [-1, 1]: rounded to 8 bits here, as the reference does. */
  lowRes: Float32Array;
  lowResSize: number;
  count: number;
  noise: ImageNoise;
  known?: KnownRegion;
  session: SessionOptions;
  precision?: Precision;
  signal?: AbortSignal;
  /** Where progress goes (onProgress, previewEvery). */
  options: Pick<CommonOptions, "onProgress" | "previewEvery">;
}

/** The upsampling stage of every pipeline. */
export function upsampleStage(input: UpsampleStageInput): Promise<ModelSamplingResult> {
  const size = input.upsampler.config.image_size;
  return sampleModel({
    model: input.upsampler,
    prompt: input.prompt,
    count: input.count,
    guidanceScale: null, // the reference upsamples with the prompt alone
    sampler: input.settings.sampler,
    noise: input.noise,
    temperature: input.settings.temperature,
    lowRes: { images: quantize8bit(input.lowRes), size: input.lowResSize, keep: input.settings.keepLowRes },
    known: input.known,
    session: input.session,
    precision: input.precision,
    signal: input.signal,
    ...stageProgress("upsample", input.options, () => [input.count, 3, size, size]),
  });
}

/** What an upsampling stage used, for the result's settings. */
export function upsampleStageSettings(
  upsampler: GlideModel,
  settings: UpsampleSettings,
  evaluations: number,
): StageSettings {
  return {
    sampler: settings.sampler.name,
    steps: settings.sampler.steps ?? evaluations,
    evaluations,
    guidanceScale: null,
    clipGuidanceScale: null,
    temperature: settings.temperature,
    keepLowRes: settings.keepLowRes,
    model: { variant: upsampler.variant, imageSize: upsampler.config.image_size },
  };
}
