// The base model, then (optionally) the upsampler on its 8-bit-rounded result: what textToImage
// edit and variation share. Image i draws its noise in both stages from its own seed, S + i.

import type { GlideModel } from "../glide/model.ts";
import { tensorToImages } from "../image/pixels.ts";
import { type ClipGuidanceOptions, checkClipGuidance } from "./clip-guidance.ts";
import { ImageNoise, imageSeeds } from "./image-seeds.ts";
import {
  checkBatchSize,
  checkGuidanceScale,
  checkModelKind,
  checkPrecision,
  checkPrompt,
  resolveSeed,
  samplerSpec,
} from "./options.ts";
import { stageProgress } from "./progress.ts";
import { type KnownRegion, type StartFrom, sampleModel } from "./sample-model.ts";
import { samplingChoice } from "./sampling-defaults.ts";
import { resolveSession } from "./session-options.ts";
import type { CommonOptions, PipelineResult, StageSettings, UpsampleStageOptions } from "./types.ts";
import { upsampleSettings, upsampleStage, upsampleStageSettings } from "./upsample.ts";

export { DEFAULT_SAMPLER } from "./sampling-defaults.ts";

/** The options of textToImage, edit and variation. */
export interface TwoStageOptions extends CommonOptions, UpsampleStageOptions {
  /** The base model (text2im or inpaint, e.g. 64×64). */
  model: GlideModel;
  /** A 4× upsampler (super-res model) to run on the base result; none by default. */
  upsampler?: GlideModel | null;
  /** Base sampler: "ddpm", "ddim", "plms" or "dpm++2m" (default). */
  sampler?: string;
  /** Base steps: a count (default: 25 for dpm++2m, 100 ddpm, 50 ddim and plms) or a respacing ("fast27", "ddim25", …). */
  steps?: number | string;
  /** Classifier-free guidance scale (1 = the prompt alone, no unconditional pass). */
  guidanceScale?: number;
  /**
   * Guide the base stage with GLIDE's noised CLIP toward the prompt (`loadClip`): its scale and
   * model. Works with every sampler and with classifier-free guidance; the upsampler is not guided.
   */
  clipGuidance?: ClipGuidanceOptions;
}

export interface TwoStageInput {
  options: TwoStageOptions;
  defaultGuidance: number;
  /** Text → image: a guidance scale the model recommends replaces `defaultGuidance`. */
  recommendedGuidance?: boolean;
  defaultUpsampleSampler: string;
  /** The region to keep at the base resolution, for all images. */
  known?: KnownRegion;
  /** The region to keep at the upsampler's resolution, made on demand. */
  knownAt?: (size: number, n: number) => Promise<KnownRegion>;
  /** Start the base stage from a picture (N copies at the base resolution) diffused part of the way. */
  startFrom?: StartFrom;
}

export async function runTwoStage(input: TwoStageInput): Promise<PipelineResult> {
  const started = performance.now();
  const { options } = input;
  const model = checkModelKind(options.model, "base", "model");
  const upsampler = options.upsampler ? checkModelKind(options.upsampler, "upsampler", "upsampler") : null;
  const prompt = checkPrompt(options.prompt);
  const n = checkBatchSize(options.batchSize ?? 1);
  const seed = resolveSeed(options.seed);
  const choice = samplingChoice(
    model,
    { sampler: options.sampler, steps: options.steps, guidance: options.guidanceScale },
    input.defaultGuidance,
    input.recommendedGuidance === true,
  );
  const guidanceScale = checkGuidanceScale(choice.guidance);
  const sampler = samplerSpec(choice.sampler, choice.steps, model, "sampler");
  const clipGuidance = checkClipGuidance(options.clipGuidance, model);
  const upsampling = upsampler ? upsampleSettings(upsampler, options, input.defaultUpsampleSampler) : null;
  const seeds = imageSeeds(seed, n);
  const noise = new ImageNoise(seeds);
  const session = await resolveSession(options);
  const precision = checkPrecision(options.precision);

  const base = await sampleModel({
    model,
    prompt,
    count: n,
    guidanceScale,
    clipGuidance,
    sampler,
    noise,
    known: input.known,
    startFrom: input.startFrom,
    session,
    precision,
    signal: options.signal,
    ...stageProgress("base", options, () => [n, 3, model.config.image_size, model.config.image_size]),
  });
  const baseTiming = { setup: base.setupSeconds, sampling: base.samplingSeconds, steps: base.steps };
  const baseSettings: StageSettings = {
    sampler: sampler.name,
    steps: sampler.steps ?? base.steps,
    evaluations: base.steps,
    guidanceScale,
    clipGuidanceScale: clipGuidance?.scale ?? null,
    temperature: 1,
    model: { variant: model.variant, imageSize: model.config.image_size },
    ...(input.startFrom ? { strength: input.startFrom.strength, startTimestep: base.startTimestep } : {}),
  };
  const settings = { prompt, seed, batchSize: n, base: baseSettings, upsample: null };
  if (!upsampler || !upsampling) {
    return {
      images: tensorToImages(base.samples, base.shape),
      samples: base.samples,
      shape: base.shape,
      lowRes: null,
      seed,
      seeds,
      settings,
      timings: { base: baseTiming, upsample: null, totalSeconds: (performance.now() - started) / 1000 },
    };
  }
  const up = await upsampleStage({
    upsampler,
    prompt,
    lowRes: base.samples,
    lowResSize: model.config.image_size,
    count: n,
    noise,
    settings: upsampling,
    known: input.knownAt ? await input.knownAt(upsampler.config.image_size, n) : undefined,
    session,
    precision,
    signal: options.signal,
    options,
  });
  return {
    images: tensorToImages(up.samples, up.shape),
    samples: up.samples,
    shape: up.shape,
    lowRes: tensorToImages(base.samples, base.shape),
    seed,
    seeds,
    settings: { ...settings, upsample: upsampleStageSettings(upsampler, upsampling, up.steps) },
    timings: {
      base: baseTiming,
      upsample: { setup: up.setupSeconds, sampling: up.samplingSeconds, steps: up.steps },
      totalSeconds: (performance.now() - started) / 1000,
    },
  };
}
