// One sampling run of one GLIDE network: the shared core of every pipeline. It encodes the prompt,
// lays out the conditioning (classifier-free guidance doubles the batch to [conditional,
// unconditional]), adds CLIP guidance when asked, chooses how a known region is kept, and runs the
// diffusion loop.

import { withGradient } from "../diffusion/condition.ts";
import { createDiffusion, GaussianDiffusion } from "../diffusion/gaussian.ts";
import { classifierFreeGuidance, epsVarianceModel } from "../diffusion/guidance.ts";
import { forceKnownRegion, renoiseKnownRegion } from "../diffusion/inpaint.ts";
import { lowResConsistency } from "../diffusion/low-res-consistency.ts";
import type { DenoisedFn, XtFn } from "../diffusion/model.ts";
import { sample } from "../diffusion/sample.ts";
import { createSampler, DEFAULT_SAMPLER_STEPS, type Sampler, type SamplerSpec } from "../diffusion/samplers/index.ts";
import { BETA_SCHEDULES, type BetaScheduleName } from "../diffusion/schedule.ts";
import type { GlideModel } from "../glide/model.ts";
import type { Precision } from "../int8/plan.ts";
import type { SessionOptions } from "../runtime/session.ts";
import { type ClipGuidanceOptions, clipGuidanceGradient } from "./clip-guidance.ts";
import { PipelineError } from "./errors.ts";
import type { ImageNoise } from "./image-seeds.ts";
import { int8PlanOf } from "./int8-plan.ts";
import { unetNetwork } from "./network.ts";
import { sessionsOf } from "./sessions.ts";
import { repeatRows, textFeeds } from "./text-features.ts";

/** Pixels to keep: `image` [N, 3, S, S] in [-1, 1] where `mask` [N, 1, S, S] is 1. */
export interface KnownRegion {
  image: Float32Array;
  mask: Float32Array;
}

/**
 * Start from a picture instead of pure noise (SDEdit): `image` [N, 3, S, S] in [-1, 1] is diffused to
 * t_start = round(strength · (T − 1)) and denoised from there.
 */
export interface StartFrom {
  image: Float32Array;
  /** How much of the diffusion is redone, in (0, 1]: small keeps the picture, 1 keeps nothing. */
  strength: number;
}

export function checkStrength(strength: number): number {
  if (!(Number.isFinite(strength) && strength > 0 && strength <= 1)) {
    throw new PipelineError(`strength must be a number in (0, 1], got ${strength}`, "strength");
  }
  return strength;
}

export interface ModelSamplingOptions {
  model: GlideModel;
  prompt: string;
  /** Images to make (N). */
  count: number;
  /** Classifier-free guidance scale; null (or 1) samples with the prompt alone. */
  guidanceScale: number | null;
  /** CLIP guidance toward the prompt (checked by checkClipGuidance); combines with classifier-free guidance. */
  clipGuidance?: ClipGuidanceOptions | null;
  sampler: SamplerSpec;
  /** Every draw of noise, image i's from its own generator (its seed). */
  noise: ImageNoise;
  /** Scale of the starting noise x_T (the reference's upsample_temp); default 1. */
  temperature?: number;
  /**
   * Super-res models: the low-resolution images [N, 3, l, l]; `keep` projects every x₀ prediction
   * and the result onto the pictures whose block means are these images (low-res-consistency.ts).
   */
  lowRes?: { images: Float32Array; size: number; keep?: boolean };
  known?: KnownRegion;
  /**
   * Start from a picture diffused to t_start: the sampler runs on the schedule cut at t_start (the
   * original timestep indices kept), with `sampler.steps` a count (default: the sampler's usual
   * count × strength) capped at t_start + 1.
   */
  startFrom?: StartFrom;
  session?: SessionOptions;
  /** The U-Net's arithmetic (default fp32); int8 calibrates the model on first use. */
  precision?: Precision;
  /** Stops sampling between steps with a CancelledError. */
  signal?: AbortSignal;
  /** Before compiling and encoding. */
  onSetup?: () => void;
  /**
   * After sampling has started (step 0) and after each step; after a step, `predXStart` is that
   * step's prediction of x₀ ([N, 3, S, S], valid during the call).
   */
  onStep?: (step: number, total: number, predXStart?: Float32Array) => void;
}

export interface ModelSamplingResult {
  /** [N, 3, S, S] in [-1, 1]. */
  samples: Float32Array;
  shape: number[];
  /** Model evaluations. */
  steps: number;
  /** With `startFrom`: the timestep the picture was diffused to; else null. */
  startTimestep: number | null;
  /** Seconds spent compiling sessions and encoding text, and sampling. */
  setupSeconds: number;
  samplingSeconds: number;
}

export async function sampleModel(options: ModelSamplingOptions): Promise<ModelSamplingResult> {
  const { model, count: n, noise } = options;
  const config = model.config;
  const size = config.image_size;
  const shape = [n, 3, size, size];
  if (noise.seeds.length !== n) throw new PipelineError(`${noise.seeds.length} seeds for ${n} images`);
  if (config.super_res && !options.lowRes) throw new PipelineError("an upsampler needs the low-resolution image");
  if (!config.super_res && options.lowRes)
    throw new PipelineError("this model is not an upsampler (super_res is false)");
  const startFrom = options.startFrom;
  if (startFrom) {
    checkStrength(startFrom.strength);
    if (typeof options.sampler.steps === "string") {
      throw new PipelineError("starting from a picture takes a step count, not a respacing", "steps");
    }
    if (startFrom.image.length !== n * 3 * size * size) {
      throw new PipelineError(
        `the starting picture must be [${shape.join(", ")}], got ${startFrom.image.length} values`,
      );
    }
  }
  const guided = options.guidanceScale !== null && options.guidanceScale !== 1 && model.textEncoder !== null;
  const batch = guided ? 2 * n : n;
  const imageOfRow = Array.from({ length: batch }, (_, i) => i % n);

  const setupStart = performance.now();
  options.onSetup?.();
  const conditioning = await textFeeds(
    model,
    guided ? [options.prompt, ""] : [options.prompt],
    imageOfRow.map((_, i) => (i < n ? 0 : 1)),
    options.session,
  );
  if (config.inpaint) {
    const known = options.known;
    conditioning.inpaint_image = known
      ? repeatRows(masked(known.image, known.mask, n), n, imageOfRow)
      : zeros(batch * 3 * size * size);
    conditioning.inpaint_mask = known ? repeatRows(known.mask, n, imageOfRow) : zeros(batch * size * size);
  }
  if (options.lowRes) conditioning.low_res = repeatRows(options.lowRes.images, n, imageOfRow);
  const lowResSize = options.lowRes?.size;
  const int8 = options.precision === "int8" ? await int8PlanOf(model, options.session) : null;
  await sessionsOf(model).unet(batch, { lowResSize, session: options.session, int8 });
  const gradient = options.clipGuidance
    ? await clipGuidanceGradient(options.clipGuidance, options.prompt, n, options.session)
    : null;
  const setupSeconds = (performance.now() - setupStart) / 1000;

  const base = createDiffusion({
    noiseSchedule: scheduleOf(config.noise_schedule),
    diffusionSteps: config.diffusion_steps,
  });
  const { sampler, startTimestep } = startFrom
    ? truncatedSampler(base, options.sampler, startFrom.strength)
    : { sampler: createSampler(base, options.sampler), startTimestep: null };
  const network = unetNetwork(model, { batch, conditioning, lowResSize, session: options.session, int8 });
  const start = noise.normalArray(n * 3 * size * size);
  const temperature = options.temperature ?? 1;
  if (temperature !== 1) for (let i = 0; i < start.length; i++) start[i] *= temperature;
  // From a picture: x at the sampler's first (noisiest) timestep, q_sample(x₀, t, the noise drawn).
  const x = startFrom ? base.qSample(startFrom.image, sampler.timesteps[0]!, start) : start;
  const total = sampler.timesteps.length;

  const samplingStart = performance.now();
  options.onStep?.(0, total);
  const eps = guided ? classifierFreeGuidance(network, options.guidanceScale!) : epsVarianceModel(network);
  const hooks = sampleHooks(options, base, shape);
  const samples = await sample({
    sampler,
    model: gradient ? withGradient(eps, gradient) : eps,
    shape,
    start: x,
    noise: (_step, noiseShape) => noise.normalArray(noiseShape.reduce((a, b) => a * b, 1)),
    clipDenoised: true,
    ...hooks,
    onStep: ({ index, predXStart }) => options.onStep?.(index + 1, total, predXStart),
    signal: options.signal,
  });
  return {
    samples,
    shape,
    steps: total,
    startTimestep,
    setupSeconds,
    samplingSeconds: (performance.now() - samplingStart) / 1000,
  };
}

/** What the sampling loop does to each x₀ prediction and to x_t: a known region kept, or the low-res input. */
function sampleHooks(
  options: ModelSamplingOptions,
  base: GaussianDiffusion,
  shape: number[],
): { denoisedFn?: DenoisedFn; xtFn?: XtFn } {
  const { known, lowRes, noise } = options;
  // An inpainting network sees the known region and has its x₀ forced, as the reference does;
  // any other network gets the known region pasted into x_t, re-noised to each step.
  if (known && options.model.config.inpaint) return { denoisedFn: forceKnownRegion(known.image, known.mask, shape) };
  if (known) {
    return { xtFn: renoiseKnownRegion(base, known.image, known.mask, shape, (length) => noise.normalArray(length)) };
  }
  if (lowRes?.keep) return lowResConsistency(lowRes.images, lowRes.size, shape[2]!);
  return {};
}

/**
 * A sampler over timesteps 0 … t_start of `base` only: the process cut there keeps the original
 * indices and ᾱ, so the sampler's noisiest step is t_start and the model sees the original
 * timesteps. Its steps: the count asked for (default the sampler's usual count × strength), at
 * most t_start + 1.
 */
function truncatedSampler(
  base: GaussianDiffusion,
  spec: SamplerSpec,
  strength: number,
): { sampler: Sampler; startTimestep: number } {
  const startTimestep = Math.round(strength * (base.numTimesteps - 1));
  const truncated = new GaussianDiffusion(base.betas.subarray(0, startTimestep + 1));
  const asked = spec.steps as number | undefined;
  const steps = Math.min(
    asked ?? Math.max(1, Math.ceil(DEFAULT_SAMPLER_STEPS[spec.name] * strength)),
    startTimestep + 1,
  );
  return { sampler: createSampler(truncated, { ...spec, steps }), startTimestep };
}

function scheduleOf(name: string): BetaScheduleName {
  if (!(BETA_SCHEDULES as readonly string[]).includes(name)) {
    throw new PipelineError(`noise_schedule '${name}' is unknown (known: ${BETA_SCHEDULES.join(", ")})`);
  }
  return name as BetaScheduleName;
}

/** image × mask, the mask [N, 1, S, S] broadcast over the image's channels. */
function masked(image: Float32Array, mask: Float32Array, n: number): Float32Array {
  const plane = mask.length / n;
  const channels = image.length / mask.length;
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const k = Math.floor(i / (channels * plane));
    out[i] = image[i] * mask[k * plane + (i % plane)];
  }
  return out;
}

function zeros(length: number): Float32Array {
  return new Float32Array(length);
}
