// Text → image: the base model with classifier-free guidance, then optionally the upsampler.

import { runTwoStage, type TwoStageOptions } from "./two-stage.ts";
import type { PipelineResult } from "./types.ts";
import { DEFAULT_UPSAMPLE_SAMPLER } from "./upsample.ts";

/** The text2im notebook's guidance scale. */
export const DEFAULT_GUIDANCE = 3;

export type TextToImageOptions = TwoStageOptions;

/**
 * `batchSize` images of `prompt` at the model's resolution (e.g. 64×64), or at the upsampler's
 * (e.g. 256×256) when one is given. Same seed and options: the same images, bit for bit.
 */
export function textToImage(options: TextToImageOptions): Promise<PipelineResult> {
  return runTwoStage({
    options,
    defaultGuidance: DEFAULT_GUIDANCE,
    recommendedGuidance: true,
    defaultUpsampleSampler: DEFAULT_UPSAMPLE_SAMPLER,
  });
}
