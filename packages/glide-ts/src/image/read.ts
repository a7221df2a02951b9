// Pictures and masks as a model takes them: square, at the model's resolution, as tensors.

import { decodeImage, type ImageSource, type ResizeFit, resizeSquare } from "./decode.ts";
import { ImageError } from "./errors.ts";
import { keepMap, type MaskMode } from "./mask.ts";
import { imageToTensor, type RawImage } from "./pixels.ts";

export interface ReadOptions {
  /** The model's resolution: the result is size × size. */
  size: number;
  /** Default "crop" (see ResizeFit). */
  fit?: ResizeFit;
  /** Names the input in error messages ("image", "mask"). */
  label?: string;
}

export interface ModelImage {
  /** [3, size, size] in [-1, 1]. */
  tensor: Float32Array;
  /** The picture as decoded (RGBA, its own size): for a mask taken from its alpha channel. */
  decoded: RawImage;
}

/** A picture resized to the model's resolution (bicubic; alpha dropped). */
export async function readImage(source: ImageSource, options: ReadOptions): Promise<ModelImage> {
  const label = options.label ?? "image";
  const decoded = await decodeImage(source, label);
  const rgb = await resizeSquare(dropAlpha(decoded), options.size, options.fit ?? "crop", "cubic");
  return { tensor: imageToTensor(rgb), decoded };
}

/** The region a mask keeps: `kept` of `total` pixels. */
export interface MaskCoverage {
  kept: number;
  total: number;
}

export interface MaskOptions extends ReadOptions {
  /** The size of the picture the mask belongs to: the mask must have it (see image/mask.ts). */
  imageSize?: { width: number; height: number };
  /** Read the alpha channel even where it is fully opaque (a picture as its own mask). */
  mode?: MaskMode;
  /** Reject a mask that keeps every pixel or none at the model's resolution (default true). */
  requireBoth?: boolean;
}

/**
 * An inpainting mask at the model's resolution, [1, size, size]: 1 where the picture is kept, 0
 * where the model fills in. Read by the one mask rule (image/mask.ts: fully transparent pixels are
 * redrawn, or black ones in a mask without transparency; the image's size), then made square by
 * `fit` and resized with nearest-neighbour sampling. So a picture with transparent holes is its
 * own mask.
 */
export async function readMask(source: ImageSource, options: MaskOptions): Promise<Float32Array> {
  const label = options.label ?? "mask";
  return maskFromDecoded(await decodeImage(source, label), { ...options, label });
}

/** readMask for an already decoded picture. */
export async function maskFromDecoded(decoded: RawImage, options: MaskOptions): Promise<Float32Array> {
  const label = options.label ?? "mask";
  const keepPixels = keepMap(decoded, { label, imageSize: options.imageSize, mode: options.mode });
  const keep = await resizeSquare(keepPixels, options.size, options.fit ?? "crop", "nearest");
  const mask = Float32Array.from(keep.data, (v) => (v >= 128 ? 1 : 0));
  if (options.requireBoth ?? true) checkCoverage(mask, label, options.size);
  return mask;
}

/** How much of a [.., H, W] 0/1 mask is kept. */
export function maskCoverage(mask: Float32Array): MaskCoverage {
  let kept = 0;
  for (const m of mask) if (m >= 0.5) kept++;
  return { kept, total: mask.length };
}

/** The rule holds at the mask's size; made square and small, the region to redraw (or keep) may vanish. */
function checkCoverage(mask: Float32Array, label: string, size: number): void {
  const { kept, total } = maskCoverage(mask);
  const at = `at the model's resolution (${size}×${size}, after fit)`;
  if (kept === total) {
    throw new ImageError(`${label} leaves nothing to redraw ${at}; mark a larger region`);
  }
  if (kept === 0) {
    throw new ImageError(`${label} leaves nothing kept ${at}; mark a smaller region`);
  }
}

function dropAlpha(image: RawImage): RawImage {
  if (image.channels !== 4) return image;
  const { width, height, data } = image;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    rgb[p * 3] = data[p * 4];
    rgb[p * 3 + 1] = data[p * 4 + 1];
    rgb[p * 3 + 2] = data[p * 4 + 2];
  }
  return { width, height, channels: 3, data: rgb };
}
