// Decoding any picture the platform reads (PNG, JPEG, WebP, …) into raw 8-bit RGBA, and resizing
// raw pictures to a model's square resolution.

import { type ResizeFit as PlatformResizeFit, platform } from "../platform/platform.ts";
import { ImageError } from "./errors.ts";
import type { RawImage } from "./pixels.ts";

/** A path, the bytes of an encoded file, or raw pixels. */
export type ImageSource = string | Uint8Array | RawImage;

/**
 * How a picture that is not square becomes square: "crop" scales it to cover the square and cuts
 * the centre out (no distortion; the default), "stretch" scales each axis on its own (what the
 * reference notebooks do, PIL's resize to (size, size)).
 */
export type ResizeFit = PlatformResizeFit;
export const RESIZE_FITS: readonly ResizeFit[] = ["crop", "stretch"];

/** A decoded picture as RGBA at its own size (EXIF orientation applied). */
export async function decodeImage(source: ImageSource, label: string): Promise<RawImage> {
  const { files, images } = platform();
  let bytes: Uint8Array;
  if (typeof source === "string") {
    try {
      bytes = await files.readBytes(source);
    } catch (error) {
      throw new ImageError(`${label} '${source}': cannot read it (${(error as Error).message})`);
    }
    label = `${label} '${source}'`;
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else {
    checkRaw(source, label);
    return source.channels === 4 ? source : toRgba(source);
  }
  try {
    return await images.decode(bytes);
  } catch (error) {
    throw new ImageError(`${label}: not a readable image (${(error as Error).message}); expected a PNG or JPEG file`);
  }
}

/**
 * `image` resized to size × size with `fit`: "cubic" (Catmull-Rom, as PIL's BICUBIC) for pictures,
 * "nearest" for masks. The result has the input's channels.
 */
export async function resizeSquare(
  image: RawImage,
  size: number,
  fit: ResizeFit,
  kernel: "cubic" | "nearest",
): Promise<RawImage> {
  if (!RESIZE_FITS.includes(fit)) {
    throw new ImageError(`unknown resize fit '${fit as string}'; expected ${RESIZE_FITS.join(" or ")}`);
  }
  if (image.width === size && image.height === size) return image;
  return platform().images.resize(image, size, fit, kernel);
}

/** Grey or RGB pixels as RGBA (opaque). */
function toRgba(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  const out = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = data[p * channels + (channels === 1 ? 0 : c)]!;
    out[p * 4 + 3] = 255;
  }
  return { width, height, channels: 4, data: out };
}

function checkRaw(image: RawImage, label: string): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageError(`${label}: raw image size ${width}×${height} is not positive`);
  }
  if (![1, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new ImageError(
      `${label}: raw image of ${data.length} bytes does not match ${width}×${height}×${channels} (grey, RGB or RGBA)`,
    );
  }
}
