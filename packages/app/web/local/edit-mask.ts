// The page's masks follow the library's one mask rule (glide-ts's keepMap, MASK_RULE), as
// `glide edit` and `glide serve` do: the mask is the picture's size; its fully transparent pixels
// are redrawn (or, without transparency, its black ones); every other pixel is kept.
import { ImageError, keepMap, platform, type RawImage } from "glide-ts";

async function decode(bytes: Uint8Array, label: string): Promise<RawImage> {
  try {
    return await platform().images.decode(bytes);
  } catch (error) {
    throw new ImageError(`the ${label} is not a picture this browser can read (${(error as Error).message})`);
  }
}

/** The picture, decoded (checked readable), and its keep-mask: one channel, 255 = keep, 0 = redraw. */
export async function pictureAndMask(
  image: Uint8Array,
  mask: Uint8Array,
): Promise<{ picture: RawImage; keep: RawImage }> {
  const picture = await decode(image, "picture");
  const drawn = await decode(mask, "mask");
  return { picture, keep: keepMap(drawn, { label: "the mask", imageSize: picture }) };
}
