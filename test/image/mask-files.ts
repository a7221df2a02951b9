// The same mask files for `glide edit` (test/cli/edit.test.ts) and the API's /v1/images/edits
// (test/server/bad-input.test.ts): each is accepted or refused by both, for the same reason.
import sharp from "sharp";

/** The picture the masks belong to: 16×16, opaque. */
export const PICTURE_SIDE = 16;

export async function picturePng(): Promise<Buffer> {
  const side = PICTURE_SIDE;
  const data = Buffer.alloc(side * side * 3);
  for (let p = 0; p < side * side; p++) data.set([(p % side) * 16, Math.floor(p / side) * 16, 128], p * 3);
  return sharp(data, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

/** An RGBA PNG: `alpha(x, y)` of black pixels. */
function rgbaPng(width: number, height: number, alpha: (x: number, y: number) => number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(y * width + x) * 4 + 3] = alpha(x, y);
  return sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** A grey PNG: `grey(x, y)`. */
function greyPng(width: number, height: number, grey: (x: number, y: number) => number): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = grey(x, y);
  return sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

/** The left quarter of a side × side mask. */
const left = (side: number) => (x: number) => x < side / 4;

export interface MaskFile {
  what: string;
  bytes: Buffer;
  /** null: accepted; else the refusal's message. */
  refused: RegExp | null;
}

export async function maskFiles(): Promise<MaskFile[]> {
  const side = PICTURE_SIDE;
  const hole = left(side);
  return [
    { what: "transparent hole (alpha 0)", bytes: await rgbaPng(side, side, (x) => (hole(x) ? 0 : 255)), refused: null },
    { what: "black/white, black hole", bytes: await greyPng(side, side, (x) => (hole(x) ? 0 : 255)), refused: null },
    {
      what: "half transparent only (alpha 1): nothing fully transparent",
      bytes: await rgbaPng(side, side, (x) => (hole(x) ? 1 : 255)),
      refused: /mask marks nothing to redraw \(fully transparent pixels are redrawn\)/,
    },
    {
      what: "half the size, same aspect ratio",
      bytes: await greyPng(side / 2, side / 2, (x) => (left(side / 2)(x) ? 0 : 255)),
      refused: /mask is 8×8 but the image is 16×16: a mask must have the same size as the image/,
    },
    {
      what: "another aspect ratio",
      bytes: await greyPng(side, side / 2, (x) => (hole(x) ? 0 : 255)),
      refused: /mask is 16×8 but the image is 16×16: a mask must have the same size as the image/,
    },
    {
      what: "all white",
      bytes: await greyPng(side, side, () => 255),
      refused: /mask marks nothing to redraw \(black pixels are redrawn, white ones kept\)/,
    },
    {
      what: "all transparent",
      bytes: await rgbaPng(side, side, () => 0),
      refused: /mask marks every pixel to redraw, so nothing is kept/,
    },
  ];
}
