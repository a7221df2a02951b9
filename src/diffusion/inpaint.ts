// The denoisedFn of GLIDE's inpainting: the known region of every x₀ prediction is replaced by the
// source image, x₀ · (1 − mask) + image · mask, with mask = 1 where the image is kept.

import type { DenoisedFn } from "./model.ts";

/**
 * `image` is [N, C, H, W]; `mask` is [N, 1, H, W] (broadcast over channels, as the reference's
 * mask) or [N, C, H, W]. `shape` is the image's.
 */
export function forceKnownRegion(image: Float32Array, mask: Float32Array, shape: readonly number[]): DenoisedFn {
  const [N, C] = shape;
  const plane = image.length / (N * C);
  if (!Number.isInteger(plane) || image.length !== N * C * plane) {
    throw new RangeError(`inpaint image of ${image.length} values does not match shape [${shape.join(", ")}]`);
  }
  const perChannelMask = mask.length === image.length;
  if (!perChannelMask && mask.length !== N * plane) {
    throw new RangeError(
      `inpaint mask has ${mask.length} values; expected ${N * plane} ([N, 1, H, W]) or ${image.length}`,
    );
  }
  return (xStart) => {
    if (xStart.length !== image.length) {
      throw new RangeError(`x₀ has ${xStart.length} values, the inpaint image ${image.length}`);
    }
    const out = new Float32Array(xStart.length);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * plane;
        const maskBase = perChannelMask ? base : n * plane;
        for (let p = 0; p < plane; p++) {
          const m = mask[maskBase + p];
          out[base + p] = xStart[base + p] * (1 - m) + image[base + p] * m;
        }
      }
    }
    return out;
  };
}
