// What the pipelines report and return.

import type { RgbImage } from "../image/pixels.ts";
import type { Precision } from "../int8/plan.ts";
import type { Device } from "../runtime/device.ts";
import type { SessionOptions } from "../runtime/session.ts";

export type Stage = "base" | "upsample";

/** A sampling step of a stage: where it stands, how long it took so far, and maybe a preview. */
export interface StepEvent {
  kind: "step";
  stage: Stage;
  /** 0 when sampling starts, then after each of the `total` steps. */
  step: number;
  total: number;
  /** Seconds since the stage's sampling started, and the estimate of what is left of it. */
  elapsedSeconds: number;
  etaSeconds: number | null;
  /** With `previewEvery`: the step's prediction of x₀, one small image per sample (every k steps and the last). */
  preview?: RgbImage[];
}

/** Progress of a pipeline: `setup` when a stage starts compiling and encoding, then its steps. */
export type ProgressEvent = { kind: "setup"; stage: Stage } | StepEvent;

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
  /** The run's seed S, and each image's own: image i is S + i (remade alone with seed S + i, batch 1). */
  seed: number;
  seeds: number[];
  /** Every setting the run used, defaults resolved: what reproduces it. */
  settings: PipelineSettings;
  timings: { base: StageTiming | null; upsample: StageTiming | null; totalSeconds: number };
}

/** How a stage sampled. */
export interface StageSettings {
  sampler: string;
  /** The step count or respacing asked for, and the model evaluations it made. */
  steps: number | string;
  evaluations: number;
  /** Classifier-free guidance scale (null: the prompt alone, as upsamplers sample). */
  guidanceScale: number | null;
  /** CLIP guidance scale (null or absent: none). */
  clipGuidanceScale?: number | null;
  /** Scale of the starting noise. */
  temperature: number;
  model: { variant: string; imageSize: number };
  /** Upsampling: whether the output was kept consistent with the low-res input. */
  keepLowRes?: boolean;
  /** Variations: how much of the diffusion was redone, in (0, 1], and the timestep the picture was diffused to. */
  strength?: number;
  startTimestep?: number | null;
}

export interface PipelineSettings {
  prompt: string;
  seed: number;
  batchSize: number;
  base: StageSettings | null;
  upsample: StageSettings | null;
}

/** Options every pipeline takes. */
export interface CommonOptions {
  prompt: string;
  /**
   * The run's seed (default: random, returned in the result). Image i draws its noise from seed
   * `seed + i`, so it is remade alone with that seed and `batchSize` 1.
   */
  seed?: number;
  /** Images per call (default 1). */
  batchSize?: number;
  /** How every onnxruntime session of the run is made (threads, execution provider, spinning). */
  session?: SessionOptions;
  /** Shorthand for `session.threads` (default: all cores). */
  threads?: number;
  /**
   * Where the networks run: "cpu" (the default), "webgpu", "cuda", or "auto" (the first GPU that
   * answers, else the CPU). An unusable device is a DeviceError before any work.
   */
  device?: Device;
  /**
   * The U-Nets' arithmetic: "fp32" (default) or "int8" (convolutions quantized, calibrated once per
   * model on first use; faster on CPUs with int8 dot products, with a small measured drift).
   */
  precision?: Precision;
  onProgress?: (event: ProgressEvent) => void;
  /** Stops the run between two steps with a CancelledError. */
  signal?: AbortSignal;
  /** Attach a preview (the predicted x₀) to every k-th step event; 0 or absent: none. */
  previewEvery?: number;
}

/** The upsampling stage's options (used after generate and edit, and by upsample). */
export interface UpsampleStageOptions {
  /**
   * Default "dpm++2m" (DEFAULT_UPSAMPLE_SAMPLER; chosen by measurement, where the reference's
   * text2im notebook uses DDIM); edit's default is "ddpm", as the reference's inpaint notebook.
   */
  upsampleSampler?: string;
  /** Default 10 for dpm++2m, "fast27" for the other samplers (DEFAULT_UPSAMPLE_STEPS). */
  upsampleSteps?: number | string;
  /** Scale of the upsampler's starting noise; default 0.997 (the reference's upsample_temp). */
  upsampleTemperature?: number;
  /**
   * Keep the upsampled picture's 4×4 block means equal to the low-res picture (its colours and
   * layout), projecting every prediction of x₀; default the upsampler's `keepsLowRes`.
   */
  upsampleKeepLowRes?: boolean;
}
