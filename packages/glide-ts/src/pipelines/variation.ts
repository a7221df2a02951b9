// Image variations (SDEdit): the picture is diffused part of the way, x_t = q_sample(x₀, t_start)
// with t_start = strength · (T − 1), and the base model denoises it from there on the schedule cut
// at t_start (sampleModel's `startFrom`); then, optionally, the upsampler runs on the result as it
// does after textToImage.

import type { ImageSource, ResizeFit } from "../image/decode.ts";
import { readImage } from "../image/read.ts";
import { PipelineError } from "./errors.ts";
import { repeatImage } from "./known-region.ts";
import { checkBatchSize, checkGuidanceScale, checkModelKind, checkPrompt } from "./options.ts";
import { checkStrength } from "./sample-model.ts";
import { DEFAULT_GUIDANCE } from "./text-to-image.ts";
import { runTwoStage, type TwoStageOptions } from "./two-stage.ts";
import type { PipelineResult } from "./types.ts";
import { DEFAULT_UPSAMPLE_SAMPLER } from "./upsample.ts";

/** How much of the diffusion a variation redoes when not told. */
export const DEFAULT_VARIATION_STRENGTH = 0.6;

export type VariationOptions = Omit<TwoStageOptions, "prompt"> & {
  /** The picture to vary (any size; made square by `fit` and resized to the model's resolution). */
  image: ImageSource;
  /** Optional text to steer the variation toward (default "": the picture alone). */
  prompt?: string;
  /**
   * How much of the diffusion is redone, in (0, 1] (default 0.6): small keeps the picture, 1 keeps
   * nothing of it. `steps` is a count over the re-noised part (default: the sampler's usual count ×
   * strength), at most t_start + 1; a respacing is refused.
   */
  strength?: number;
  /** How a picture that is not square is made square (default "crop"). */
  fit?: ResizeFit;
};

/**
 * `batchSize` variations of `image` at the model's resolution, or at the upsampler's when one is
 * given. `result.settings.base` reports the strength and the timestep the picture was diffused to.
 */
export async function variation(options: VariationOptions): Promise<PipelineResult> {
  const size = checkModelKind(options.model, "base", "model").config.image_size;
  const n = checkBatchSize(options.batchSize ?? 1);
  const strength = checkStrength(options.strength ?? DEFAULT_VARIATION_STRENGTH);
  const prompt = checkPrompt(options.prompt ?? "");
  if (typeof options.steps === "string" && !/^\s*\d+\s*$/.test(options.steps)) {
    throw new PipelineError("a variation takes a step count, not a respacing", "steps");
  }
  const guidanceScale = checkGuidanceScale(options.guidanceScale ?? DEFAULT_GUIDANCE);
  const picture = await readImage(options.image, { size, fit: options.fit, label: "image" });
  return runTwoStage({
    // With the empty prompt the conditional and unconditional passes are the same: no guidance.
    options: { ...options, prompt, guidanceScale: prompt === "" ? 1 : guidanceScale },
    defaultGuidance: DEFAULT_GUIDANCE,
    defaultUpsampleSampler: DEFAULT_UPSAMPLE_SAMPLER,
    startFrom: { image: repeatImage(picture.tensor, n), strength },
  });
}
