// The one mask rule of editing, the same for the library's edit(), `glide edit`, the API's
// /v1/images/edits and the web page (OpenAI's rule for /v1/images/edits, extended to black/white):
//
// - A mask with transparency (any pixel with alpha below 255): its fully transparent pixels
//   (alpha 0) are redrawn, every other pixel is kept.
// - A mask without transparency (grey, RGB or opaque RGBA): its black pixels (brightness below
//   128) are redrawn, its white ones kept.
// - The mask has exactly the image's width and height.
// - It marks at least one pixel to redraw and keeps at least one.
//
// A picture with transparent pixels is its own mask (the same rule, read from its alpha channel).
// Platform-neutral: it works on decoded pixels, so the server (sharp) and the page (canvas) use it.
import { ImageError } from "./errors.ts";
import type { RawImage } from "./pixels.ts";

/** A mask pixel with transparency is redrawn when its alpha is at most this: fully transparent only. */
export const REDRAW_MAX_ALPHA = 0;
/** A mask pixel without transparency is redrawn when its brightness (mean of R, G, B) is below this. */
export const REDRAW_BELOW_BRIGHTNESS = 128;

/** The rule in one sentence, for help texts and error messages. */
export const MASK_RULE =
  "a mask is the image's size; its fully transparent pixels (alpha 0) are redrawn, or, in a mask without transparency, its black ones (brightness below 128); every other pixel is kept";

/** How a mask is read: from its alpha channel, or from its brightness. */
export type MaskMode = "alpha" | "brightness";

function alphaChannel(channels: number): number | null {
  return channels === 4 ? 3 : null;
}

/** Whether some pixel is not fully opaque (a picture without an alpha channel has none). */
export function hasTransparency(image: RawImage): boolean {
  const alpha = alphaChannel(image.channels);
  if (alpha === null) return false;
  for (let i = alpha; i < image.data.length; i += image.channels) if (image.data[i] < 255) return true;
  return false;
}

/** A mask with transparency is read from its alpha channel, any other from its brightness. */
export function maskMode(mask: RawImage): MaskMode {
  return hasTransparency(mask) ? "alpha" : "brightness";
}

/** Whether the pixel `p` of a mask read in `mode` is redrawn. */
export function isRedrawn(mask: RawImage, p: number, mode: MaskMode): boolean {
  const { channels, data } = mask;
  const px = p * channels;
  if (mode === "alpha") return data[px + alphaChannel(channels)!] <= REDRAW_MAX_ALPHA;
  const brightness = channels < 3 ? data[px] : (data[px] + data[px + 1] + data[px + 2]) / 3;
  return brightness < REDRAW_BELOW_BRIGHTNESS;
}

export interface KeepMapOptions {
  /** Names the mask in error messages ("mask", "the image's alpha channel"); messages start with it. */
  label?: string;
  /** The image the mask belongs to: the mask must have its width and height. */
  imageSize?: { width: number; height: number };
  /** Read the alpha channel even where it is fully opaque (a picture as its own mask). */
  mode?: MaskMode;
}

/**
 * The mask by the rule, as one channel of the mask's size: 255 where the image is kept, 0 where
 * it is redrawn. An ImageError for a mask of another size than the image, or one that redraws no
 * pixel or every pixel.
 */
export function keepMap(mask: RawImage, options: KeepMapOptions = {}): RawImage {
  const label = options.label ?? "mask";
  const { width, height } = mask;
  const image = options.imageSize;
  if (image && (image.width !== width || image.height !== height)) {
    throw new ImageError(
      `${label} is ${width}×${height} but the image is ${image.width}×${image.height}: a mask must have the same size as the image`,
    );
  }
  const mode = options.mode ?? maskMode(mask);
  if (mode === "alpha" && alphaChannel(mask.channels) === null) {
    throw new ImageError(`${label} has no alpha channel, so no transparent pixel marks what to redraw`);
  }
  const keep = new Uint8Array(width * height);
  let redrawn = 0;
  for (let p = 0; p < keep.length; p++) {
    if (isRedrawn(mask, p, mode)) redrawn++;
    else keep[p] = 255;
  }
  const how = mode === "alpha" ? "fully transparent pixels are redrawn" : "black pixels are redrawn, white ones kept";
  if (redrawn === 0) throw new ImageError(`${label} marks nothing to redraw (${how})`);
  if (redrawn === keep.length) {
    throw new ImageError(`${label} marks every pixel to redraw, so nothing is kept (${how}); generate instead`);
  }
  return { width, height, channels: 1, data: keep };
}
