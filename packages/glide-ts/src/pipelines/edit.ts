// Text-guided editing (inpainting): the masked region of a picture is redrawn to fit the prompt,
// the rest is kept. With an inpainting model the known region is an input of the network and its
// x₀ is forced at every step (the reference); with a plain text2im model the known region is
// re-noised to each step and pasted into x_t, so any model can edit. The same holds for the
// upsampler: an upsample-inpaint model, or a plain upsampler with the re-noised paste.

import type { ImageSource, ResizeFit } from "../image/decode.ts";
import { hasTransparency } from "../image/mask.ts";
import { maskFromDecoded, readImage, readMask } from "../image/read.ts";
import { PipelineError } from "./errors.ts";
import { repeatImage, resizeMaskNearest } from "./known-region.ts";
import { checkBatchSize, checkModelKind } from "./options.ts";
import { runTwoStage, type TwoStageOptions } from "./two-stage.ts";
import type { PipelineResult } from "./types.ts";

/** The inpaint notebook's guidance scale. */
export const DEFAULT_EDIT_GUIDANCE = 5;

export interface EditOptions extends TwoStageOptions {
  /** The picture to edit (any size; made square by `fit` and resized to the model's resolution). */
  image: ImageSource;
  /**
   * What is redrawn, by the one mask rule (image/mask.ts, MASK_RULE): the picture's size; its fully
   * transparent pixels are redrawn, or, without transparency, its black ones (white is kept).
   * Default: the picture's own alpha channel (its fully transparent pixels are redrawn).
   */
  mask?: ImageSource;
  /** How a picture that is not square is made square (default "crop"). */
  fit?: ResizeFit;
}

export async function edit(options: EditOptions): Promise<PipelineResult> {
  const size = checkModelKind(options.model, "base", "model").config.image_size;
  const n = checkBatchSize(options.batchSize ?? 1);
  const picture = await readImage(options.image, { size, fit: options.fit, label: "image" });
  const imageSize = { width: picture.decoded.width, height: picture.decoded.height };
  let mask: Float32Array;
  if (options.mask !== undefined) {
    mask = await readMask(options.mask, { size, fit: options.fit, imageSize, label: "mask" });
  } else if (hasTransparency(picture.decoded)) {
    mask = await maskFromDecoded(picture.decoded, {
      size,
      fit: options.fit,
      mode: "alpha",
      label: "the image's alpha channel",
    });
  } else {
    throw new PipelineError(
      "edit needs a mask: give one, or an image with transparent pixels where it is redrawn",
      "mask",
    );
  }
  return runTwoStage({
    options,
    defaultGuidance: DEFAULT_EDIT_GUIDANCE,
    defaultUpsampleSampler: "ddpm", // as the reference's inpaint notebook
    known: { image: repeatImage(picture.tensor, n), mask: repeatImage(mask, n) },
    // At the upsampler's resolution: the picture read again at that size, the mask carried over
    // with nearest-neighbour sampling (the reference's F.interpolate(mode="nearest")).
    knownAt: async (upSize, count) => {
      const large = await readImage(options.image, { size: upSize, fit: options.fit, label: "image" });
      return {
        image: repeatImage(large.tensor, count),
        mask: repeatImage(resizeMaskNearest(mask, size, upSize), count),
      };
    },
  });
}
