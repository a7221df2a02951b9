// edit() on the fixture models: the known pixels survive (after 8-bit rounding) with an inpainting
// model, with a plain text2im model (re-noised known region), and through the upsampler; masks from
// a mask file or from transparency; clear errors for unusable inputs.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { SAMPLER_NAMES } from "../../packages/glide-ts/src/diffusion/samplers/index.ts";
import type { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import type { RgbImage } from "../../packages/glide-ts/src/image/pixels.ts";
import { tensorToImages } from "../../packages/glide-ts/src/image/pixels.ts";
import { readImage, readMask } from "../../packages/glide-ts/src/image/read.ts";
import { edit } from "../../packages/glide-ts/src/pipelines/edit.ts";
import { fixtureModel, tempDir, writeMask, writePicture } from "./helpers.ts";

const dir = tempDir();
const picture = await writePicture(dir, "picture.png", 48, 32); // not square: centre-cropped
const maskPath = await writeMask(dir, "mask.png", 48, 32, { x0: 0.3, x1: 0.7, y0: 0.2, y1: 0.6 });

/** The source picture and mask as the model sees them at `size`. */
async function expected(size: number): Promise<{ image: RgbImage; mask: Float32Array }> {
  const { tensor } = await readImage(picture, { size });
  const mask = await readMask(maskPath, { size });
  return { image: tensorToImages(tensor, [1, 3, size, size])[0], mask };
}

/** Counts kept pixels that differ from the source, and filled pixels that equal it. */
function compare(out: RgbImage, source: RgbImage, mask: Float32Array): { keptChanged: number; filledSame: number } {
  let keptChanged = 0;
  let filledSame = 0;
  for (let p = 0; p < mask.length; p++) {
    const same = [0, 1, 2].every((c) => out.data[p * 3 + c] === source.data[p * 3 + c]);
    if (mask[p] === 1 && !same) keptChanged++;
    if (mask[p] === 0 && same) filledSame++;
  }
  return { keptChanged, filledSame };
}

async function checkKeeps(model: GlideModel, sampler: string, upsampler?: GlideModel): Promise<void> {
  const result = await edit({
    image: picture,
    mask: maskPath,
    prompt: "a corgi",
    model,
    upsampler,
    sampler,
    steps: 5,
    seed: 3,
    batchSize: 2,
  });
  const size = result.shape[2];
  const { image, mask } = await expected(size);
  assert.ok(mask.some((m) => m === 0) && mask.some((m) => m === 1), "the test mask keeps some pixels and fills others");
  for (const out of result.images) {
    const { keptChanged, filledSame } = compare(out, image, mask);
    assert.equal(keptChanged, 0, `${model.variant} with ${sampler}: every kept pixel is the source's`);
    assert.ok(filledSame < mask.filter((m) => m === 0).length, `${model.variant} with ${sampler}: the hole is redrawn`);
  }
}

for (const sampler of SAMPLER_NAMES) {
  test(`edit with the inpaint model (${sampler}) keeps the known pixels`, async () => {
    await checkKeeps(await fixtureModel("inpaint"), sampler);
  });
}

test("edit with a plain text2im model keeps the known pixels (ddpm and dpm++2m)", async () => {
  const model = await fixtureModel("text2im");
  await checkKeeps(model, "ddpm");
  await checkKeeps(model, "dpm++2m");
});

test("edit then upsample keeps the known pixels at the upsampler's resolution", async () => {
  await checkKeeps(await fixtureModel("text2im"), "ddim", await fixtureModel("superres"));
});

test("edit is deterministic for a seed; a picture's transparency is its own mask", async () => {
  const model = await fixtureModel("inpaint");
  // The picture with the mask's hole made transparent.
  const { data, info } = await sharp(picture).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const holes = await sharp(maskPath).resize(info.width, info.height).greyscale().raw().toBuffer();
  for (let p = 0; p < info.width * info.height; p++) data[p * 4 + 3] = holes[p]! >= 128 ? 255 : 0;
  const transparent = join(dir, "transparent.png");
  await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } })
    .png()
    .toFile(transparent);

  const options = { prompt: "a vase", model, steps: 4, seed: 8 };
  const withMask = await edit({ ...options, image: picture, mask: maskPath });
  const again = await edit({ ...options, image: picture, mask: maskPath });
  assert.ok(
    again.samples.every((v, i) => Object.is(v, withMask.samples[i])),
    "same seed: bit-identical",
  );
  const fromAlpha = await edit({ ...options, image: transparent });
  const alphaAsMask = await edit({ ...options, image: picture, mask: transparent });
  assert.ok(
    alphaAsMask.samples.every((v, i) => Object.is(v, fromAlpha.samples[i])),
    "no mask: the picture's alpha channel, as when the picture is passed as the mask",
  );
});

test("unusable pictures and masks fail with a clear message", async () => {
  const model = await fixtureModel("inpaint");
  const base = { prompt: "x", model, steps: 2, seed: 1 };
  const white = await writeMask(dir, "white.png", 48, 32, { x0: 0, x1: 0, y0: 0, y1: 0 });
  const black = await writeMask(dir, "black.png", 48, 32, { x0: 0, x1: 1, y0: 0, y1: 1 });
  const edge = await writeMask(dir, "edge.png", 48, 32, { x0: 0, x1: 0.1, y0: 0, y1: 1 }); // cropped away
  const half = await writeMask(dir, "half.png", 24, 16, { x0: 0.3, x1: 0.7, y0: 0.2, y1: 0.6 });
  const tall = await writeMask(dir, "tall.png", 20, 40, { x0: 0.2, x1: 0.5, y0: 0.2, y1: 0.5 });
  const notImage = join(dir, "notes.txt");
  await import("node:fs/promises").then((fs) => fs.writeFile(notImage, "not a picture"));

  await assert.rejects(
    edit({ ...base, image: join(dir, "missing.png"), mask: maskPath }),
    /image '.*missing\.png': cannot read it \(no such file\)/,
  );
  await assert.rejects(
    edit({ ...base, image: notImage, mask: maskPath }),
    /not a readable image.*expected a PNG or JPEG/,
  );
  await assert.rejects(edit({ ...base, image: picture, mask: notImage }), /mask '.*notes\.txt': not a readable image/);
  await assert.rejects(
    edit({ ...base, image: picture, mask: white }),
    /^ImageError: mask marks nothing to redraw \(black pixels are redrawn, white ones kept\)$/,
  );
  await assert.rejects(edit({ ...base, image: picture, mask: black }), /mask marks every pixel to redraw/);
  await assert.rejects(
    edit({ ...base, image: picture, mask: edge }),
    /mask leaves nothing to redraw at the model's resolution \(16×16, after fit\)/,
  );
  await assert.rejects(
    edit({ ...base, image: picture, mask: half }),
    /mask is 24×16 but the image is 48×32: a mask must have the same size as the image/,
  );
  await assert.rejects(edit({ ...base, image: picture, mask: tall }), /mask is 20×40 but the image is 48×32/);
  await assert.rejects(edit({ ...base, image: picture }), /edit needs a mask/);
  await assert.rejects(
    edit({ ...base, image: picture, mask: maskPath, model: await fixtureModel("superres") }),
    /expected a base model/,
  );
});
