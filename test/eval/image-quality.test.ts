// The full-reference figures on pictures whose answer is known in closed form: PSNR of a uniform
// error, block means that hide a checkerboard, SSIM of flat pictures, and the summaries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lowFrequencyPsnr, PSNR_CAP, psnr, psnrOf, ssim, summarize } from "../../packages/eval/src/image-quality.ts";
import type { RgbImage } from "../../packages/glide-ts/src/image/pixels.ts";

/** A width × height picture whose every channel of pixel (x, y) is value(x, y). */
function picture(width: number, height: number, value: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.fill(value(x, y), (y * width + x) * 3, (y * width + x + 1) * 3);
  return { width, height, channels: 3, data };
}

test("PSNR of a uniform error of 10 levels is 10·log10(255² / 100) dB", () => {
  const expected = 10 * Math.log10((255 * 255) / 100);
  assert.ok(Math.abs(expected - 28.1308) < 1e-4);
  const a = picture(4, 4, () => 100);
  const b = picture(4, 4, (x, y) => ((x + y) % 2 === 0 ? 110 : 90));
  assert.ok(Math.abs(psnr(a, b) - expected) < 1e-9);
  assert.ok(Math.abs(psnrOf([0, 0], [0, 255]) - 10 * Math.log10(2)) < 1e-12, "MSE 255²/2");
  assert.equal(psnr(a, a), PSNR_CAP, "identical pictures: the cap, not Infinity");
});

test("low-frequency PSNR compares block means: a checkerboard around a flat grey vanishes", () => {
  const flat = picture(8, 8, () => 100);
  const checker = picture(8, 8, (x, y) => ((x + y) % 2 === 0 ? 110 : 90));
  assert.equal(lowFrequencyPsnr(flat, checker, 2), PSNR_CAP);
  assert.ok(Math.abs(lowFrequencyPsnr(flat, checker, 1) - psnr(flat, checker)) < 1e-9, "blocks of 1: plain PSNR");
  const brighter = picture(8, 8, () => 104);
  assert.ok(Math.abs(lowFrequencyPsnr(flat, brighter, 4) - 10 * Math.log10((255 * 255) / 16)) < 1e-9);
  assert.throws(() => lowFrequencyPsnr(flat, checker, 3), /block size 3 does not divide 8×8/);
});

test("SSIM: 1 for identical pictures, the luminance term alone for two flat ones", () => {
  const ramp = picture(16, 16, (x, y) => 8 * x + 4 * y);
  assert.ok(Math.abs(ssim(ramp, ramp) - 1) < 1e-12);
  const c1 = (0.01 * 255) ** 2;
  const expected = (2 * 100 * 150 + c1) / (100 * 100 + 150 * 150 + c1);
  assert.ok(
    Math.abs(
      ssim(
        picture(16, 16, () => 100),
        picture(16, 16, () => 150),
      ) - expected,
    ) < 1e-9,
  );
  const noisy = picture(16, 16, (x, y) => 8 * x + 4 * y + ((x * 7 + y * 3) % 5) * 6);
  const s = ssim(ramp, noisy);
  assert.ok(s > 0 && s < 1, `a distorted picture scores between 0 and 1: ${s}`);
  assert.ok(
    ssim(
      picture(6, 6, () => 1),
      picture(6, 6, () => 1),
    ) === 1,
    "smaller than the window",
  );
});

test("pictures of different sizes are refused; summaries of none are null", () => {
  assert.throws(
    () =>
      psnr(
        picture(4, 4, () => 0),
        picture(8, 8, () => 0),
      ),
    /pictures differ in size: 4×4 and 8×8/,
  );
  assert.equal(summarize([]), null);
  assert.deepEqual(summarize([3, 1, 2]), { mean: 2, min: 1, max: 3 });
});
