// Uploaded pictures are checked from their header before anything decodes them: the format, and
// the declared size, so a PNG that claims 100000×100000 pixels is refused without inflating it.
import sharp, { type Metadata } from "sharp";
import { ApiError, invalidField } from "./errors.ts";

export interface ImageLimits {
  /** Largest width or height accepted. */
  maxSide: number;
  /** Largest width × height accepted. */
  maxPixels: number;
}

export interface UploadInfo {
  width: number;
  height: number;
  format: string;
  hasAlpha: boolean;
}

const FORMATS = ["png", "jpeg", "webp"];

export async function checkUpload(bytes: Uint8Array, param: string, limits: ImageLimits): Promise<UploadInfo> {
  let meta: Metadata;
  try {
    // The header only: the declared size is checked below, before anything decodes pixels.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw invalidField(param, `${param} is not a readable image; send a PNG, JPEG or WebP file`, "invalid_image");
  }
  const { width, height, format } = meta;
  if (!FORMATS.includes(format ?? "") || !width || !height) {
    throw invalidField(
      param,
      `${param} must be a PNG, JPEG or WebP file, got ${format ?? "unknown"}`,
      "invalid_image_format",
    );
  }
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels) {
    throw new ApiError(
      400,
      `${param} is ${width}×${height} pixels; this server takes pictures up to ${limits.maxSide} pixels a side and ${limits.maxPixels} pixels in all`,
      { param, code: "image_too_large" },
    );
  }
  return { width, height, format: format!, hasAlpha: meta.hasAlpha ?? false };
}
