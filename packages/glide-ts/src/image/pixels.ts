// 8-bit pictures as plain data, and their conversion to and from the model's tensors.
// A model image is float32 [3, H, W] (or [N, 3, H, W]) in [-1, 1]; a pixel byte v maps to v / 127.5 − 1.
// Back to bytes the reference's way: round((x + 1) · 127.5), half to even as torch.round, clamped.

import type { RawImage } from "../platform/data-types.ts";
import { roundHalfEven } from "../util/round.ts";

export type { RawImage } from "../platform/data-types.ts";

/** An 8-bit RGB picture (RawImage with three channels). */
export interface RgbImage extends RawImage {
  channels: 3;
}

/** The byte of a model value: round((x + 1) · 127.5) clamped to [0, 255], computed in float32 as the reference. */
export function toByte(x: number): number {
  const v = Math.fround(Math.fround(x + 1) * 127.5);
  if (!(v > 0)) return 0; // also NaN
  if (v >= 255) return 255;
  return roundHalfEven(v);
}

/** A byte as a model value in [-1, 1]. */
export function fromByte(v: number): number {
  return Math.fround(Math.fround(v / 127.5) - 1);
}

/**
 * Values rounded to the 8-bit grid, as the reference prepares the upsampler's low-res input:
 * ((x + 1) · 127.5).round() / 127.5 − 1 (clamped here, a no-op for clipped samples).
 */
export function quantize8bit(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fromByte(toByte(x[i]));
  return out;
}

/** An RGB picture as a [3, H, W] tensor in [-1, 1] (an alpha channel is dropped). */
export function imageToTensor(image: RawImage): Float32Array {
  const { width, height, channels, data } = image;
  if (channels < 3) throw new RangeError(`expected an RGB or RGBA picture, got ${channels} channel(s)`);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = fromByte(data[p * channels + c]);
  }
  return out;
}

/** Each image of an [N, 3, H, W] tensor in [-1, 1] as an 8-bit RGB picture. */
export function tensorToImages(x: Float32Array, shape: readonly number[]): RgbImage[] {
  const [n, c, height, width] = shape;
  if (c !== 3 || x.length !== n * 3 * height * width) {
    throw new RangeError(`expected an [N, 3, H, W] tensor, got ${x.length} values for [${shape.join(", ")}]`);
  }
  const plane = width * height;
  const images: RgbImage[] = [];
  for (let k = 0; k < n; k++) {
    const data = new Uint8Array(3 * plane);
    const offset = k * 3 * plane;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) data[p * 3 + ch] = toByte(x[offset + ch * plane + p]);
    }
    images.push({ width, height, channels: 3, data });
  }
  return images;
}

/** Images side by side in rows of `columns` (default: a near-square grid); empty cells are black. */
export function imageGrid(images: readonly RgbImage[], columns = Math.ceil(Math.sqrt(images.length))): RgbImage {
  if (images.length === 0) throw new RangeError("a grid needs at least one image");
  const { width, height } = images[0];
  if (images.some((im) => im.width !== width || im.height !== height)) {
    throw new RangeError("grid images must all have the same size");
  }
  const cols = Math.max(1, Math.min(columns, images.length));
  const rows = Math.ceil(images.length / cols);
  const gridWidth = cols * width;
  const data = new Uint8Array(3 * gridWidth * rows * height);
  images.forEach((im, k) => {
    const x0 = (k % cols) * width;
    const y0 = Math.floor(k / cols) * height;
    for (let y = 0; y < height; y++) {
      const from = y * width * 3;
      data.set(im.data.subarray(from, from + width * 3), ((y0 + y) * gridWidth + x0) * 3);
    }
  });
  return { width: gridWidth, height: rows * height, channels: 3, data };
}
