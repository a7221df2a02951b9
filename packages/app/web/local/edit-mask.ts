// The page's mask convention (OpenAI's, as `glide serve` takes it): the mask's fully transparent
// pixels are redrawn, every other pixel is kept. GLIDE's own mask is white = keep, so the worker
// turns one into the other before calling edit().
import { ImageError, platform, type RawImage } from "glide-ts";

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
  if (drawn.width !== picture.width || drawn.height !== picture.height) {
    throw new ImageError(
      `the mask is ${drawn.width}×${drawn.height} but the picture is ${picture.width}×${picture.height}; they must be the same size`,
    );
  }
  const keep = new Uint8Array(drawn.width * drawn.height);
  let redrawn = 0;
  for (let p = 0; p < keep.length; p++) {
    const transparent = drawn.data[p * drawn.channels + 3] === 0;
    keep[p] = transparent ? 0 : 255;
    if (transparent) redrawn++;
  }
  if (redrawn === 0)
    throw new ImageError("the mask marks nothing to redraw: paint over the part of the picture to change");
  if (redrawn === keep.length)
    throw new ImageError("the mask covers the whole picture: nothing is kept, so generate instead");
  return { picture, keep: { width: drawn.width, height: drawn.height, channels: 1, data: keep } };
}
