// The mask of an edit request, by the library's one mask rule (glide-ts's keepMap, MASK_RULE), as
// `glide edit` and the page read it: the mask is the image's size; its fully transparent pixels
// are redrawn (or, in a mask without transparency, its black ones); every other pixel is kept.
// Without a mask the image's own fully transparent pixels are redrawn (OpenAI's /v1/images/edits).
// The job gets the rule's result as a grey PNG (white keeps, black is redrawn), which the worker's
// edit() reads back unchanged.
import { hasTransparency, keepMap, type RawImage } from "glide-ts";
import sharp from "sharp";
import { invalidField } from "./errors.ts";
import type { UploadInfo } from "./upload-check.ts";

/** RGBA, as the library's platforms decode (a picture without alpha gets an opaque one). */
async function decode(bytes: Uint8Array): Promise<RawImage> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) };
}

async function keepPng(keep: RawImage): Promise<Uint8Array> {
  const png = await sharp(keep.data, { raw: { width: keep.width, height: keep.height, channels: 1 } })
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/** The GLIDE mask of an edit request; an ImageError (400, param "mask") where the rule refuses it. */
export async function editMask(
  image: { bytes: Uint8Array; info: UploadInfo },
  mask: { bytes: Uint8Array; info: UploadInfo } | null,
): Promise<Uint8Array> {
  if (mask) return keepPng(keepMap(await decode(mask.bytes), { label: "mask", imageSize: image.info }));
  const picture = image.info.hasAlpha ? await decode(image.bytes) : null;
  if (!picture || !hasTransparency(picture)) {
    throw invalidField(
      "mask",
      "send a mask, or an image whose fully transparent pixels mark what to redraw (this one has none)",
    );
  }
  return keepPng(keepMap(picture, { label: "the image's alpha channel", mode: "alpha" }));
}
