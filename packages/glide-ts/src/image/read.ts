// Pictures and masks as a model takes them: square, at the model's resolution, as tensors.

import { decodeImage, type ImageSource, type ResizeFit, resizeSquare } from "./decode.ts";
import { ImageError } from "./errors.ts";
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
  /** The size of the picture the mask belongs to: the mask must have its aspect ratio. */
  imageSize?: { width: number; height: number };
  /** Reject a mask that keeps every pixel or none (default true). */
  requireBoth?: boolean;
}

/**
 * An inpainting mask at the model's resolution, [1, size, size]: 1 where the picture is kept, 0
 * where the model fills in. A mask with transparent pixels is read from its alpha channel (opaque =
 * keep), any other from its brightness (white = keep); each is thresholded at half, resized with
 * nearest-neighbour sampling, and thresholded again. So a picture with transparent holes is its
 * own mask.
 */
export async function readMask(source: ImageSource, options: MaskOptions): Promise<Float32Array> {
  const label = options.label ?? "mask";
  return maskFromDecoded(await decodeImage(source, label), { ...options, label });
}

/** readMask for an already decoded RGBA picture. */
export async function maskFromDecoded(decoded: RawImage, options: MaskOptions): Promise<Float32Array> {
  const label = options.label ?? "mask";
  if (options.imageSize) checkAspect(decoded, options.imageSize, label);
  const keep = await resizeSquare(keepMap(decoded), options.size, options.fit ?? "crop", "nearest");
  const mask = Float32Array.from(keep.data, (v) => (v >= 128 ? 1 : 0));
  if (options.requireBoth ?? true) checkCoverage(mask, label, hasTransparency(decoded));
  return mask;
}

/** How much of a [.., H, W] 0/1 mask is kept. */
export function maskCoverage(mask: Float32Array): MaskCoverage {
  let kept = 0;
  for (const m of mask) if (m >= 0.5) kept++;
  return { kept, total: mask.length };
}

export function hasTransparency(image: RawImage): boolean {
  if (image.channels !== 4) return false;
  for (let i = 3; i < image.data.length; i += 4) if (image.data[i] < 255) return true;
  return false;
}

/** One byte per pixel, 255 = keep: from alpha when the picture has transparency, else from brightness. */
function keepMap(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  const useAlpha = hasTransparency(image);
  const out = new Uint8Array(width * height);
  for (let p = 0; p < out.length; p++) {
    const px = p * channels;
    const value = channels < 3 ? data[px] : useAlpha ? data[px + 3] : (data[px] + data[px + 1] + data[px + 2]) / 3;
    out[p] = value >= 128 ? 255 : 0;
  }
  return { width, height, channels: 1, data: out };
}

function checkAspect(mask: RawImage, image: { width: number; height: number }, label: string): void {
  const ratio = mask.width / mask.height / (image.width / image.height);
  if (Math.abs(ratio - 1) > 0.01) {
    throw new ImageError(
      `${label} is ${mask.width}×${mask.height} but the image is ${image.width}×${image.height}: ` +
        "a mask must have the image's aspect ratio (any size)",
    );
  }
}

function checkCoverage(mask: Float32Array, label: string, fromAlpha: boolean): void {
  const { kept, total } = maskCoverage(mask);
  const how = fromAlpha ? "opaque pixels are kept, transparent ones filled" : "white is kept, black is filled";
  if (kept === total) {
    throw new ImageError(`${label} keeps every pixel, so there is nothing to fill (${how})`);
  }
  if (kept === 0) {
    throw new ImageError(`${label} keeps no pixel, so there is nothing to edit (${how}); use \`glide generate\``);
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
