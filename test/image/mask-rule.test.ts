// The one mask rule (packages/glide-ts/src/image/mask.ts), table by table: which pixels are redrawn
// (alpha at the threshold, black/white), which masks are read from alpha, which sizes are accepted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ImageError } from "../../packages/glide-ts/src/image/errors.ts";
import {
  isRedrawn,
  keepMap,
  type MaskMode,
  maskMode,
  REDRAW_BELOW_BRIGHTNESS,
  REDRAW_MAX_ALPHA,
} from "../../packages/glide-ts/src/image/mask.ts";
import type { RawImage } from "../../packages/glide-ts/src/image/pixels.ts";

const pixel = (channels: 1 | 3 | 4, values: number[]): RawImage => ({
  width: 1,
  height: 1,
  channels,
  data: Uint8Array.from(values),
});

test("the thresholds: alpha 0 only, brightness below 128", () => {
  assert.equal(REDRAW_MAX_ALPHA, 0);
  assert.equal(REDRAW_BELOW_BRIGHTNESS, 128);
});

/** [a pixel, how it is read, redrawn]. */
const PIXELS: [string, RawImage, MaskMode, boolean][] = [
  ["alpha 0", pixel(4, [255, 255, 255, 0]), "alpha", true],
  ["alpha 0, black", pixel(4, [0, 0, 0, 0]), "alpha", true],
  ["alpha 1", pixel(4, [0, 0, 0, 1]), "alpha", false],
  ["alpha 127", pixel(4, [0, 0, 0, 127]), "alpha", false],
  ["alpha 128", pixel(4, [0, 0, 0, 128]), "alpha", false],
  ["alpha 254", pixel(4, [0, 0, 0, 254]), "alpha", false],
  ["alpha 255, black (alpha decides)", pixel(4, [0, 0, 0, 255]), "alpha", false],
  ["grey 0", pixel(1, [0]), "brightness", true],
  ["grey 127", pixel(1, [127]), "brightness", true],
  ["grey 128", pixel(1, [128]), "brightness", false],
  ["grey 255", pixel(1, [255]), "brightness", false],
  ["RGB black", pixel(3, [0, 0, 0]), "brightness", true],
  ["RGB mean 127.67", pixel(3, [127, 128, 128]), "brightness", true],
  ["RGB mean 128", pixel(3, [128, 128, 128]), "brightness", false],
  ["RGB red (mean 85)", pixel(3, [255, 0, 0]), "brightness", true],
  ["RGB white", pixel(3, [255, 255, 255]), "brightness", false],
  ["opaque RGBA black", pixel(4, [0, 0, 0, 255]), "brightness", true],
  ["opaque RGBA white", pixel(4, [255, 255, 255, 255]), "brightness", false],
];

for (const [what, image, mode, redrawn] of PIXELS) {
  test(`isRedrawn: ${what} (${mode}) → ${redrawn ? "redrawn" : "kept"}`, () => {
    assert.equal(isRedrawn(image, 0, mode), redrawn);
  });
}

/** A width × height RGBA mask: `alpha(p)`, black where `black(p)`. */
function rgba(width: number, height: number, alpha: (p: number) => number, black = (_p: number) => false): RawImage {
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const v = black(p) ? 0 : 255;
    data.set([v, v, v, alpha(p)], p * 4);
  }
  return { width, height, channels: 4, data };
}

test("maskMode: alpha as soon as one pixel is not fully opaque; else brightness", () => {
  const cases: [string, RawImage, MaskMode][] = [
    ["all opaque RGBA", rgba(2, 2, () => 255), "brightness"],
    ["one pixel alpha 254", rgba(2, 2, (p) => (p === 3 ? 254 : 255)), "alpha"],
    ["one pixel alpha 0", rgba(2, 2, (p) => (p === 0 ? 0 : 255)), "alpha"],
    ["grey", { width: 1, height: 1, channels: 1, data: Uint8Array.from([0]) }, "brightness"],
    ["RGB", { width: 1, height: 1, channels: 3, data: Uint8Array.from([0, 0, 0]) }, "brightness"],
  ];
  for (const [what, image, mode] of cases) assert.equal(maskMode(image), mode, what);
});

test("keepMap: an alpha mask ignores colour; a black/white one is read from brightness", () => {
  // Black everywhere but with alpha: only alpha 0 is redrawn, whatever the colour.
  const alpha = keepMap(
    rgba(
      4,
      1,
      (p) => [0, 1, 128, 255][p]!,
      () => true,
    ),
    { imageSize: { width: 4, height: 1 } },
  );
  assert.deepEqual(Array.from(alpha.data), [0, 255, 255, 255]);
  assert.equal(alpha.channels, 1);
  // Opaque: black (the first two) redrawn.
  const bw = keepMap(
    rgba(
      4,
      1,
      () => 255,
      (p) => p < 2,
    ),
  );
  assert.deepEqual(Array.from(bw.data), [0, 0, 255, 255]);
  // The rule's result read by the rule again is unchanged.
  assert.deepEqual(Array.from(keepMap(bw).data), Array.from(bw.data));
});

/** [the mask's size, accepted for a 16×12 image]. */
const SIZES: [number, number, boolean][] = [
  [16, 12, true],
  [32, 24, false], // same aspect ratio, twice the size
  [8, 6, false], // same aspect ratio, half the size
  [12, 16, false],
  [16, 13, false],
  [15, 12, false],
];

for (const [width, height, accepted] of SIZES) {
  test(`keepMap: a ${width}×${height} mask for a 16×12 image is ${accepted ? "accepted" : "refused"}`, () => {
    const mask = rgba(width, height, (p) => (p === 0 ? 0 : 255));
    const read = () => keepMap(mask, { imageSize: { width: 16, height: 12 } });
    if (accepted) assert.equal(read().data.length, 16 * 12);
    else {
      assert.throws(read, (error: unknown) => {
        assert.ok(error instanceof ImageError);
        assert.match(
          error.message,
          new RegExp(
            `^mask is ${width}×${height} but the image is 16×12: a mask must have the same size as the image$`,
          ),
        );
        return true;
      });
    }
  });
}

/** [what, the mask, options, the refusal]. */
const REFUSED: [string, RawImage, Parameters<typeof keepMap>[1], RegExp][] = [
  ["nothing transparent enough", rgba(2, 2, () => 1), {}, /^mask marks nothing to redraw \(fully transparent/],
  [
    "all white",
    rgba(2, 2, () => 255),
    {},
    /^mask marks nothing to redraw \(black pixels are redrawn, white ones kept\)$/,
  ],
  ["all transparent", rgba(2, 2, () => 0), {}, /^mask marks every pixel to redraw, so nothing is kept/],
  [
    "all black",
    rgba(
      2,
      2,
      () => 255,
      () => true,
    ),
    {},
    /^mask marks every pixel to redraw/,
  ],
  [
    "a picture as its own mask, fully opaque",
    rgba(
      2,
      2,
      () => 255,
      (p) => p === 0,
    ),
    { mode: "alpha", label: "the image's alpha channel" },
    /^the image's alpha channel marks nothing to redraw/,
  ],
  [
    "alpha asked of a grey mask",
    { width: 1, height: 1, channels: 1, data: Uint8Array.from([0]) },
    { mode: "alpha" },
    /^mask has no alpha channel/,
  ],
];

for (const [what, mask, options, message] of REFUSED) {
  test(`keepMap refuses: ${what} (an ImageError)`, () => {
    assert.throws(
      () => keepMap(mask, options),
      (error: unknown) => error instanceof ImageError && message.test(error.message),
    );
  });
}
