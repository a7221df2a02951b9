// Decoding any picture sharp reads (PNG, JPEG, WebP, …) into raw 8-bit RGBA, and resizing raw
// pictures to a model's square resolution.

import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { ImageError } from "./errors.ts";
import type { RawImage } from "./pixels.ts";

/** A path, the bytes of an encoded file, or raw pixels. */
export type ImageSource = string | Uint8Array | RawImage;

/**
 * How a picture that is not square becomes square: "crop" scales it to cover the square and cuts
 * the centre out (no distortion; the default), "stretch" scales each axis on its own (what the
 * reference notebooks do, PIL's resize to (size, size)).
 */
export type ResizeFit = "crop" | "stretch";
export const RESIZE_FITS: readonly ResizeFit[] = ["crop", "stretch"];

/** A decoded picture as RGBA at its own size (EXIF orientation applied). */
export async function decodeImage(source: ImageSource, label: string): Promise<RawImage> {
  let input: ReturnType<typeof sharp>;
  if (typeof source === "string") {
    let bytes: Buffer;
    try {
      bytes = await readFile(source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message;
      throw new ImageError(`${label} '${source}': cannot read it (${why})`);
    }
    input = sharp(bytes);
    label = `${label} '${source}'`;
  } else if (source instanceof Uint8Array) {
    input = sharp(source);
  } else {
    checkRaw(source, label);
    input = sharp(source.data, { raw: { width: source.width, height: source.height, channels: source.channels } });
  }
  try {
    const { data, info } = await input
      .autoOrient()
      .toColourspace("srgb")
      .ensureAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels, expected RGBA`);
    return { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) };
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
  const { width, height, channels } = image;
  let pipeline = sharp(image.data, { raw: { width, height, channels } }).resize(size, size, {
    fit: fit === "crop" ? "cover" : "fill",
    position: "centre",
    kernel,
  });
  if (channels === 1) pipeline = pipeline.toColourspace("b-w"); // else sharp returns sRGB
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== image.channels) {
    throw new Error(`resize changed the channel count from ${image.channels} to ${info.channels}`);
  }
  return { width: size, height: size, channels: image.channels, data: new Uint8Array(data) };
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
