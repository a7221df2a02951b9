// What the pipelines report and return.

import type { RgbImage } from "../image/pixels.ts";

export type Stage = "base" | "upsample";

/**
 * Progress of a pipeline: `setup` when a stage starts compiling and encoding, then `step` with
 * step 0 when its sampling starts and after each of its `total` steps.
 */
export type ProgressEvent =
  | { kind: "setup"; stage: Stage }
  | { kind: "step"; stage: Stage; step: number; total: number };

export interface StageTiming {
  /** Seconds compiling sessions (first use of a batch size) and encoding the prompt. */
  setup: number;
  /** Seconds in the sampling loop, and its model evaluations. */
  sampling: number;
  steps: number;
}

export interface PipelineResult {
  /** The final images, 8-bit. */
  images: RgbImage[];
  /** The same as [N, 3, S, S] in [-1, 1], before 8-bit rounding. */
  samples: Float32Array;
  shape: number[];
  /** The base model's images when they were upsampled, else null. */
  lowRes: RgbImage[] | null;
  seed: number;
  timings: { base: StageTiming | null; upsample: StageTiming | null; totalSeconds: number };
}

/** Options every pipeline takes. */
export interface CommonOptions {
  prompt: string;
  /** All noise comes from one generator seeded with this (default: a random seed, returned in the result). */
  seed?: number;
  /** Images per call (default 1). */
  batchSize?: number;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  onProgress?: (event: ProgressEvent) => void;
}

/** The upsampling stage's options (used after generate and edit, and by upsample). */
export interface UpsampleStageOptions {
  /** Default "ddim" (the reference's text2im notebook; its inpaint notebook uses "ddpm"). */
  upsampleSampler?: string;
  /** Default "fast27". */
  upsampleSteps?: number | string;
  /** Scale of the upsampler's starting noise; default 0.997 (the reference's upsample_temp). */
  upsampleTemperature?: number;
}
