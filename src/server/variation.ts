// Image variations: the picture is diffused part of the way, x_t = q_sample(x₀, t_start) with
// t_start = strength · (T − 1), and denoised from there (SDEdit). The sampler runs on the schedule
// cut at t_start, so every step it takes is one of the re-noised part. The pipelines have no such
// start yet, so this builds the run from the diffusion layer and the model's sessions directly.

import { createDiffusion, GaussianDiffusion } from "../diffusion/gaussian.ts";
import { classifierFreeGuidance, epsVarianceModel } from "../diffusion/guidance.ts";
import { sample } from "../diffusion/sample.ts";
import { createSampler, type SamplerName } from "../diffusion/samplers/index.ts";
import { BETA_SCHEDULES, type BetaScheduleName } from "../diffusion/schedule.ts";
import { CancelledError } from "../errors.ts";
import type { GlideModel } from "../glide/model.ts";
import type { ImageSource, ResizeFit } from "../image/decode.ts";
import { tensorToImages } from "../image/pixels.ts";
import { readImage } from "../image/read.ts";
import { PipelineError } from "../pipelines/errors.ts";
import { repeatImage } from "../pipelines/known-region.ts";
import { unetNetwork } from "../pipelines/network.ts";
import {
  checkBatchSize,
  checkGuidanceScale,
  checkModelKind,
  checkPrompt,
  resolveSeed,
  samplerSpec,
} from "../pipelines/options.ts";
import { stageProgress } from "../pipelines/progress.ts";
import { resolveSession } from "../pipelines/session-options.ts";
import { sessionsOf } from "../pipelines/sessions.ts";
import { textFeeds } from "../pipelines/text-features.ts";
import { DEFAULT_GUIDANCE } from "../pipelines/text-to-image.ts";
import { DEFAULT_SAMPLER } from "../pipelines/two-stage.ts";
import type { CommonOptions, PipelineResult } from "../pipelines/types.ts";
import { Rng } from "../util/rng.ts";

export const DEFAULT_VARIATION_STRENGTH = 0.6;

/** Steps of a whole run per sampler (createSampler's defaults); a variation runs `strength` of them. */
const FULL_RUN_STEPS: Record<SamplerName, number> = { ddpm: 100, ddim: 50, plms: 50, "dpm++2m": 25 };

export interface VariationOptions extends CommonOptions {
  /** A base model (text2im; an inpainting model works too, with nothing known). */
  model: GlideModel;
  /** The picture to vary (made square by `fit`, resized to the model's resolution). */
  image: ImageSource;
  /** How much of the diffusion is redone, in (0, 1]: small keeps the picture, 1 keeps nothing. */
  strength?: number;
  sampler?: string;
  /** Model evaluations over the re-noised part (default: the sampler's usual count × strength); a count, not a respacing. */
  steps?: number | string;
  /** Classifier-free guidance scale; unused with the empty prompt. */
  guidanceScale?: number;
  fit?: ResizeFit;
}

export interface VariationResult extends PipelineResult {
  strength: number;
  /** The timestep the picture was diffused to. */
  startTimestep: number;
}

export function checkStrength(strength: number): number {
  if (!(Number.isFinite(strength) && strength > 0 && strength <= 1)) {
    throw new PipelineError(`strength must be a number in (0, 1], got ${strength}`);
  }
  return strength;
}

export async function imageVariation(options: VariationOptions): Promise<VariationResult> {
  const started = performance.now();
  const model = checkModelKind(options.model, "base", "model");
  const prompt = checkPrompt(options.prompt);
  const n = checkBatchSize(options.batchSize ?? 1);
  const seed = resolveSeed(options.seed);
  const strength = checkStrength(options.strength ?? DEFAULT_VARIATION_STRENGTH);
  const guidanceScale = checkGuidanceScale(options.guidanceScale ?? DEFAULT_GUIDANCE);
  const spec = samplerSpec(options.sampler ?? DEFAULT_SAMPLER, options.steps, model, "sampler");
  if (typeof spec.steps === "string") throw new PipelineError("a variation takes a step count, not a respacing");
  const session = resolveSession(options);
  const { config } = model;
  const size = config.image_size;
  const shape = [n, 3, size, size];

  const full = createDiffusion({
    noiseSchedule: scheduleOf(config.noise_schedule),
    diffusionSteps: config.diffusion_steps,
  });
  const startTimestep = Math.round(strength * (config.diffusion_steps - 1));
  // Timesteps 0 … t_start keep their indices and ᾱ: the sampler's noisiest step is t_start.
  const truncated = new GaussianDiffusion(full.betas.subarray(0, startTimestep + 1));
  const steps = Math.min(spec.steps ?? Math.max(1, Math.ceil(FULL_RUN_STEPS[spec.name] * strength)), startTimestep + 1);
  const sampler = createSampler(truncated, { name: spec.name, steps });
  const total = sampler.timesteps.length;

  const picture = await readImage(options.image, { size, fit: options.fit, label: "image" });
  if (options.signal?.aborted) throw new CancelledError("the variation was cancelled");
  const progress = stageProgress("base", options, () => shape);
  const setupStart = performance.now();
  progress.onSetup();
  // With the empty prompt the conditional and unconditional passes are the same: skip guidance.
  const guided = prompt !== "" && guidanceScale !== 1 && model.textEncoder !== null;
  const batch = guided ? 2 * n : n;
  const rows = Array.from({ length: batch }, (_, i) => (i < n ? 0 : 1));
  const conditioning = await textFeeds(model, guided ? [prompt, ""] : [prompt], rows, session);
  if (config.inpaint) {
    conditioning.inpaint_image = new Float32Array(batch * 3 * size * size);
    conditioning.inpaint_mask = new Float32Array(batch * size * size);
  }
  await sessionsOf(model).unet(batch, { session });
  const setupSeconds = (performance.now() - setupStart) / 1000;

  const network = unetNetwork(model, { batch, conditioning, session });
  const rng = new Rng(seed);
  const x0 = repeatImage(picture.tensor, n);
  const start = full.qSample(x0, sampler.timesteps[0]!, rng.normalArray(x0.length));
  const samplingStart = performance.now();
  progress.onStep(0, total);
  const samples = await sample({
    sampler,
    model: guided ? classifierFreeGuidance(network, guidanceScale) : epsVarianceModel(network),
    shape,
    rng,
    start,
    clipDenoised: true,
    onStep: ({ index, predXStart }) => progress.onStep(index + 1, total, predXStart),
    signal: options.signal,
  });
  const samplingSeconds = (performance.now() - samplingStart) / 1000;
  return {
    images: tensorToImages(samples, shape),
    samples,
    shape,
    lowRes: null,
    seed,
    strength,
    startTimestep,
    settings: {
      prompt,
      seed,
      batchSize: n,
      base: {
        sampler: spec.name,
        steps,
        evaluations: total,
        guidanceScale: guided ? guidanceScale : null,
        temperature: 1,
        model: { variant: model.variant, imageSize: size },
      },
      upsample: null,
    },
    timings: {
      base: { setup: setupSeconds, sampling: samplingSeconds, steps: total },
      upsample: null,
      totalSeconds: (performance.now() - started) / 1000,
    },
  };
}

function scheduleOf(name: string): BetaScheduleName {
  if (!(BETA_SCHEDULES as readonly string[]).includes(name)) {
    throw new PipelineError(`noise_schedule '${name}' is unknown (known: ${BETA_SCHEDULES.join(", ")})`);
  }
  return name as BetaScheduleName;
}
