// Image bytes → the model's input: RGB float32 [3, size, size] in [-1, 1], by the same decoding and
// resizing as the sampling commands' pictures (src/image).
import { decodeImage, resizeSquare } from "../image/decode.ts";
import type { RawImage } from "../image/pixels.ts";

/**
 * Decodes any format the platform reads (PNG, JPEG, WebP, …), applies EXIF rotation, composites
 * alpha on white, scales the short side to `size` and center-crops the long side. Throws on
 * corrupt input (truncated files included).
 */
export async function trainingImage(bytes: Uint8Array, size: number): Promise<Float32Array> {
  return (await trainingPicture(bytes, size)).image;
}

/** `trainingImage`, with the stored picture's size before scaling (to tell an upscaled one). */
export async function trainingPicture(
  bytes: Uint8Array,
  size: number,
): Promise<{ image: Float32Array; sourceSize: { width: number; height: number } }> {
  const decoded = await decodeImage(bytes, "image");
  const image = toTrainingTensor(await resizeSquare(onWhite(decoded), size, "crop", "cubic"));
  return { image, sourceSize: { width: decoded.width, height: decoded.height } };
}

/**
 * RGB bytes → CHW floats as v / 127.5 − 1 rounded once to float32 (imageToTensor rounds twice, as
 * the reference's float32 preprocessing does). Training runs keep the rounding they were tuned with:
 * the 2-bit caption test's float trajectory depends on it.
 */
function toTrainingTensor(image: RawImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = image.data[p * 3 + c]! / 127.5 - 1;
  return out;
}

/** An RGBA picture composited on white, as RGB. */
function onWhite(image: RawImage): RawImage {
  if (image.channels !== 4) return image;
  const { width, height, data } = image;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const alpha = data[p * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(data[p * 4 + c]! * alpha + 255 * (1 - alpha));
  }
  return { width, height, channels: 3, data: rgb };
}
