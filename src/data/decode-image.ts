// Image bytes → the model's input: RGB float32 [3, size, size] in [-1, 1].
import sharp from "sharp";

/**
 * Decodes any format sharp reads (PNG, JPEG, WebP, …), applies EXIF rotation, composites alpha on
 * white, scales the short side to `size` and center-crops the long side. Throws on corrupt input
 * (sharp's default `failOn: "warning"` also rejects truncated files).
 */
export async function decodeImage(bytes: Uint8Array, size: number): Promise<Float32Array> {
  const { data, info } = await sharp(bytes)
    .rotate()
    .flatten({ background: "#ffffff" })
    .resize(size, size, { fit: "cover", position: "centre" })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  return hwcToChw(data, size);
}

/** Interleaved 8-bit RGB (HWC) → planar float (CHW), mapping 0..255 to -1..1. */
export function hwcToChw(pixels: Uint8Array, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    out[p] = pixels[3 * p]! / 127.5 - 1;
    out[plane + p] = pixels[3 * p + 1]! / 127.5 - 1;
    out[2 * plane + p] = pixels[3 * p + 2]! / 127.5 - 1;
  }
  return out;
}
