// `glide eval`'s figures for a super-res model: held-out pairs of the trainer's validation split
// (file order), each one's low-res input made exactly as in training (box-downsampled 4×, 8-bit),
// upsampled from a fixed seed, and compared with the true high-res picture: PSNR, PSNR of the
// low frequencies, SSIM, and the seconds per image. A bicubic resize of the same input is the
// baseline that a learned upsampler has to beat.

import type { GlideModel, Precision, SessionOptions } from "glide-ts";
import { DEFAULT_UPSAMPLE_SAMPLER, openDataset, PipelineError, type RgbImage, tensorToImages } from "glide-ts";
import {
  checkPrecision,
  ImageNoise,
  lowResFromImages,
  resizeSquare,
  upsampleSettings,
  upsampleStage,
} from "glide-ts/internals";
import { type FigureSummary, lowFrequencyPsnr, psnr, ssim, summarize } from "./image-quality.ts";

/** The upsampling factor the trainer conditions super-res models with (image_size / 4). */
export const UPSAMPLE_FACTOR = 4;

export interface UpsampleEvalSettings {
  /** Held-out pairs to upsample (the first ones of the validation split, in file order). */
  pairs: number;
  /** Pair i is upsampled from seed + i. */
  seed: number;
  /** Default: the upsample pipeline's (ddim). */
  sampler?: string;
  /** A count or a respacing; default the pipeline's (fast27). */
  steps?: number | string;
  /** Scale of the starting noise; default the pipeline's (0.997). */
  temperature?: number;
  validationFraction: number;
  /** The U-Net's arithmetic; default fp32. */
  precision?: Precision;
  /** Keep the output's block means equal to the low-res input; default the model's `keepsLowRes`. */
  keepLowRes?: boolean;
}

export interface UpsampleEvalOptions extends UpsampleEvalSettings {
  model: GlideModel;
  /** A dataset `openDataset` reads, with pictures at least the model's size (e.g. corpus/128/all.jsonl). */
  data: string;
  session?: SessionOptions;
  /** After each pair, with the pairs done and asked for. */
  onProgress?: (done: number, total: number, detail?: string) => void;
}

/** One picture's figures against the true high-res picture. */
export interface QualityFigures {
  psnr: number;
  lowFrequencyPsnr: number;
  ssim: number;
}

export interface UpsampleRow {
  key: string;
  caption: string;
  seed: number;
  upsampled: QualityFigures;
  bicubic: QualityFigures;
  /** Sampling wall time (no compile, no text encoding). */
  seconds: number;
}

export interface QualitySummary {
  psnr: FigureSummary | null;
  lowFrequencyPsnr: FigureSummary | null;
  ssim: FigureSummary | null;
}

export interface UpsampleEvalReport {
  settings: Required<UpsampleEvalSettings> & { evaluations: number; lowResSize: number };
  data: { source: string; validation: number; skipped: number; sourceSize: { width: number; height: number } | null };
  upsampled: QualitySummary;
  bicubic: QualitySummary;
  rows: UpsampleRow[];
  secondsPerImage: number | null;
  /** Compiling sessions and encoding captions, over all pairs. */
  setupSeconds: number;
}

/** Checks the model can be evaluated this way: a super-res network (not the inpainting one). */
export function checkUpsampleEvalModel(model: GlideModel, label: string): void {
  if (model.variant !== "super-res") {
    throw new PipelineError(`${label}: the upsampler eval needs a super-res model, got a ${model.variant} model`);
  }
}

export async function runUpsampleEval(options: UpsampleEvalOptions): Promise<UpsampleEvalReport> {
  const { model } = options;
  checkUpsampleEvalModel(model, "model");
  const sampler = options.sampler ?? DEFAULT_UPSAMPLE_SAMPLER;
  const settings = upsampleSettings(
    model,
    {
      upsampleSampler: sampler,
      upsampleSteps: options.steps,
      upsampleTemperature: options.temperature,
      upsampleKeepLowRes: options.keepLowRes,
    },
    sampler,
  );
  if (!(Number.isInteger(options.pairs) && options.pairs > 0)) {
    throw new PipelineError(`pairs must be a positive integer, got ${options.pairs}`);
  }
  if (!(options.validationFraction > 0)) {
    throw new PipelineError("the upsampler eval takes held-out pairs: the validation fraction must be above 0");
  }
  const size = model.config.image_size;
  const lowResSize = size / UPSAMPLE_FACTOR;
  const held = await openDataset(options.data, {
    resolution: size,
    shuffle: false,
    epochs: 1,
    split: { split: "validation", validationFraction: options.validationFraction },
  });

  const rows: UpsampleRow[] = [];
  let setupSeconds = 0;
  let evaluations = 0;
  let sourceSize: { width: number; height: number } | null = null;
  for await (const pair of held) {
    if (rows.length >= options.pairs) break;
    checkSourceSize(pair.sourceSize, size, pair.key, options.data);
    sourceSize ??= pair.sourceSize ?? null;
    const seed = options.seed + rows.length;
    options.onProgress?.(rows.length, options.pairs, pair.caption);
    const truth = tensorToImages(pair.image, [1, 3, size, size])[0]!;
    const lowRes = lowResFromImages(pair.image, [1, 3, size, size], lowResSize);
    const result = await upsampleStage({
      upsampler: model,
      settings,
      prompt: pair.caption,
      lowRes,
      lowResSize,
      count: 1,
      noise: new ImageNoise([seed]),
      session: options.session ?? {},
      precision: checkPrecision(options.precision),
      options: {},
    });
    setupSeconds += result.setupSeconds;
    evaluations = result.steps;
    const upsampled = tensorToImages(result.samples, result.shape)[0]!;
    const bicubic = await bicubicUpsample(tensorToImages(lowRes, [1, 3, lowResSize, lowResSize])[0]!, size);
    rows.push({
      key: pair.key,
      caption: pair.caption,
      seed,
      upsampled: figuresAgainst(upsampled, truth),
      bicubic: figuresAgainst(bicubic, truth),
      seconds: result.samplingSeconds,
    });
  }
  options.onProgress?.(rows.length, options.pairs);
  if (rows.length === 0) {
    throw new PipelineError(
      `--data ${options.data}: no held-out pair at validation fraction ${options.validationFraction} (the upsampler eval needs some)`,
    );
  }
  return {
    settings: {
      pairs: options.pairs,
      seed: options.seed,
      sampler,
      steps: settings.sampler.steps ?? evaluations,
      evaluations,
      temperature: settings.temperature,
      lowResSize,
      validationFraction: options.validationFraction,
      precision: checkPrecision(options.precision),
      keepLowRes: settings.keepLowRes,
    },
    data: {
      source: held.source,
      validation: held.size ?? rows.length,
      skipped: held.skipped.keys.length,
      sourceSize,
    },
    upsampled: summaryOf(rows.map((r) => r.upsampled)),
    bicubic: summaryOf(rows.map((r) => r.bicubic)),
    rows,
    secondsPerImage: rows.reduce((s, r) => s + r.seconds, 0) / rows.length,
    setupSeconds,
  };
}

/**
 * A picture stored smaller than the model would be upscaled by the dataset before the comparison,
 * and the "true" high-res picture would be a blur: refused (e.g. the 32×32 corpus for a 128×128 model).
 */
function checkSourceSize(
  source: { width: number; height: number } | undefined,
  size: number,
  key: string,
  data: string,
) {
  if (source && Math.min(source.width, source.height) < size) {
    throw new PipelineError(
      `--data ${data}: its pictures are smaller than the upsampler's ${size}×${size} (${key} is ${source.width}×${source.height}); the upsampler eval compares with the true high-res pictures: use a corpus at ${size} px (glide data build --size ${size})`,
    );
  }
}

function figuresAgainst(image: RgbImage, truth: RgbImage): QualityFigures {
  return {
    psnr: psnr(image, truth),
    lowFrequencyPsnr: lowFrequencyPsnr(image, truth, UPSAMPLE_FACTOR),
    ssim: ssim(image, truth),
  };
}

function summaryOf(figures: readonly QualityFigures[]): QualitySummary {
  return {
    psnr: summarize(figures.map((f) => f.psnr)),
    lowFrequencyPsnr: summarize(figures.map((f) => f.lowFrequencyPsnr)),
    ssim: summarize(figures.map((f) => f.ssim)),
  };
}

async function bicubicUpsample(image: RgbImage, size: number): Promise<RgbImage> {
  const resized = await resizeSquare(image, size, "stretch", "cubic");
  return { width: resized.width, height: resized.height, channels: 3, data: resized.data };
}
