// A picture to edit, from an upload or a result: decoded, and made square (the centre kept) and no
// larger than needed, since the model makes square pictures and the mask must be the picture's size.
import { el } from "./dom.ts";

/** Sides above this are scaled down before painting and uploading. */
const MAX_SIDE = 1024;

export interface EditPicture {
  /** What is sent: the original bytes when they needed no change, else a PNG. */
  blob: Blob;
  bitmap: ImageBitmap;
  /** What was done to it, to tell the user (empty: nothing). */
  changes: string[];
}

/** A file that is not a picture the browser can read. */
export class PictureError extends Error {
  override name = "PictureError";
}

export async function loadPicture(blob: Blob): Promise<EditPicture> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new PictureError("That file is not a picture this browser can read: choose a PNG, JPEG or WebP image.");
  }
  const { width, height } = bitmap;
  if (width === 0 || height === 0) throw new PictureError("That picture is empty (no pixels).");
  const square = Math.min(width, height);
  const side = Math.min(square, MAX_SIDE);
  if (width === height && side === width) return { blob, bitmap, changes: [] };

  const changes = [
    ...(width !== height ? ["cropped to its centre square"] : []),
    ...(side < square ? [`scaled down to ${side}×${side}`] : []),
  ];
  const canvas = el("canvas", { width: side, height: side });
  const context = canvas.getContext("2d")!;
  context.imageSmoothingQuality = "high";
  context.drawImage(bitmap, (width - square) / 2, (height - square) / 2, square, square, 0, 0, side, side);
  bitmap.close();
  const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!png) throw new PictureError("The picture could not be prepared for editing (the browser could not encode it).");
  return { blob: png, bitmap: await createImageBitmap(png), changes };
}
