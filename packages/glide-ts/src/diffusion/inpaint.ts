// Inpainting hooks. The mask is 1 where the source image is kept and 0 where the model fills in.
// - forceKnownRegion (GLIDE's denoisedFn, for inpainting models): the known region of every x₀
//   prediction is replaced by the image, x₀ · (1 − mask) + image · mask.
// - renoiseKnownRegion (for any model, e.g. a plain text2im one): before every model evaluation the
//   known region of x_t is replaced by the image diffused to the same step, q(x_t | image), and the
//   final sample's known region by the image itself.

import type { GaussianDiffusion } from "./gaussian.ts";
import type { DenoisedFn, XtFn } from "./model.ts";

/**
 * `image` is [N, C, H, W]; `mask` is [N, 1, H, W] (broadcast over channels, as the reference's
 * mask) or [N, C, H, W]. `shape` is the image's.
 */
export function forceKnownRegion(image: Float32Array, mask: Float32Array, shape: readonly number[]): DenoisedFn {
  const blend = maskedBlend(image, mask, shape);
  return (xStart) => {
    if (xStart.length !== image.length) {
      throw new RangeError(`x₀ has ${xStart.length} values, the inpaint image ${image.length}`);
    }
    return blend(xStart, image);
  };
}

/**
 * The x_t hook that pastes the known region, re-noised to each step: x_t · (1 − mask) +
 * q_sample(image, t) · mask, with fresh N(0, 1) noise from `noise` at every step, and the image
 * itself at the end. `base` is the model's unrespaced process (original timestep indices).
 * `image`, `mask` and `shape` as for forceKnownRegion.
 */
export function renoiseKnownRegion(
  base: GaussianDiffusion,
  image: Float32Array,
  mask: Float32Array,
  shape: readonly number[],
  noise: (length: number) => Float32Array,
): XtFn {
  if (base.timestepMap.some((t, i) => t !== i)) {
    throw new RangeError("renoiseKnownRegion expects the unrespaced process (original timestep indices)");
  }
  const blend = maskedBlend(image, mask, shape);
  return (x, t) => {
    if (x.length !== image.length)
      throw new RangeError(`x_t has ${x.length} values, the inpaint image ${image.length}`);
    const known = t === null ? image : base.qSample(image, t, noise(image.length));
    return blend(x, known);
  };
}

/** (x, known) ↦ x · (1 − mask) + known · mask, with the mask checked against the image once. */
function maskedBlend(
  image: Float32Array,
  mask: Float32Array,
  shape: readonly number[],
): (x: Float32Array, known: Float32Array) => Float32Array {
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
  return (x, known) => {
    const out = new Float32Array(x.length);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * plane;
        const maskBase = perChannelMask ? base : n * plane;
        for (let p = 0; p < plane; p++) {
          const m = mask[maskBase + p];
          out[base + p] = x[base + p] * (1 - m) + known[base + p] * m;
        }
      }
    }
    return out;
  };
}
