// OpenAI's mask convention: the fully transparent pixels (alpha 0) of the mask, or of the image
// itself when no mask is sent, are redrawn; everything else is kept. GLIDE's mask is white = keep,
// so that is what the job gets. A mask without an alpha channel is passed on as GLIDE reads it
// (white keeps, black is redrawn).
import sharp from "sharp";
import { invalidField } from "./errors.ts";
import type { UploadInfo } from "./upload-check.ts";

/** A grey PNG, white where `source`'s alpha is not 0; null when no pixel is fully transparent. */
async function keepMapFromAlpha(source: Uint8Array): Promise<Uint8Array | null> {
  const { data, info } = await sharp(source).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const keep = Buffer.alloc(info.width * info.height);
  let redrawn = 0;
  for (let p = 0; p < keep.length; p++) {
    const transparent = data[p * info.channels + 3] === 0;
    keep[p] = transparent ? 0 : 255;
    if (transparent) redrawn++;
  }
  if (redrawn === 0) return null;
  const png = await sharp(keep, { raw: { width: info.width, height: info.height, channels: 1 } })
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/** The GLIDE mask of an edit request. */
export async function editMask(
  image: { bytes: Uint8Array; info: UploadInfo },
  mask: { bytes: Uint8Array; info: UploadInfo } | null,
): Promise<Uint8Array> {
  if (mask) {
    if (mask.info.width !== image.info.width || mask.info.height !== image.info.height) {
      throw invalidField(
        "mask",
        `the mask is ${mask.info.width}×${mask.info.height} but the image is ${image.info.width}×${image.info.height}; they must be the same size`,
      );
    }
    if (!mask.info.hasAlpha) return mask.bytes;
    const keep = await keepMapFromAlpha(mask.bytes);
    if (!keep) throw invalidField("mask", "the mask has no fully transparent pixel, so there is nothing to redraw");
    return keep;
  }
  const keep = image.info.hasAlpha ? await keepMapFromAlpha(image.bytes) : null;
  if (!keep) {
    throw invalidField(
      "mask",
      "send a mask, or an image whose fully transparent pixels mark what to redraw (this one has none)",
    );
  }
  return keep;
}
