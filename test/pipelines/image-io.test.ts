// The image layer the pipelines use: decoding and resizing, masks, 8-bit rounding as the reference,
// grids and atomic PNG writing.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { ImageError } from "../../packages/glide-ts/src/image/errors.ts";
import {
  fromByte,
  imageGrid,
  imageToTensor,
  quantize8bit,
  type RgbImage,
  tensorToImages,
  toByte,
} from "../../packages/glide-ts/src/image/pixels.ts";
import { readImage, readMask } from "../../packages/glide-ts/src/image/read.ts";
import { numberedPath, writePng } from "../../packages/glide-ts/src/image/write.ts";
import { resizeMaskNearest } from "../../packages/glide-ts/src/pipelines/known-region.ts";
import { readPng, tempDir, writeMask, writePicture } from "./helpers.ts";

const dir = tempDir();

test("bytes ↔ [-1, 1] as the reference: round half to even, clamp", () => {
  for (let v = 0; v < 256; v++) assert.equal(toByte(fromByte(v)), v, `byte ${v} survives the round trip`);
  assert.equal(toByte(-1), 0);
  assert.equal(toByte(1), 255);
  assert.equal(toByte(2), 255);
  assert.equal(toByte(-3), 0);
  assert.equal(toByte(Number.NaN), 0);
  // (x + 1) · 127.5 = 0.5 and 1.5 exactly: torch.round goes to the even neighbour.
  assert.equal(toByte(0.5 / 127.5 - 1), 0);
  assert.equal(toByte(1.5 / 127.5 - 1), 2);
  const q = quantize8bit(Float32Array.from([0.1234, -0.999, 0.5]));
  assert.deepEqual(Array.from(q), [fromByte(toByte(0.1234)), fromByte(toByte(-0.999)), fromByte(toByte(0.5))]);
  assert.deepEqual(quantize8bit(q), q, "quantizing is idempotent");
});

test("tensors ↔ pictures, and a grid of a batch", () => {
  const image: RgbImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 128, 255, 10, 20, 30]) };
  const tensor = imageToTensor(image);
  assert.deepEqual(Array.from(tensor), [0, 10, 128, 20, 255, 30].map(fromByte));
  assert.deepEqual(tensorToImages(tensor, [1, 3, 1, 2])[0], image);
  const grid = imageGrid([image, image, image]);
  assert.equal(grid.width, 4, "two columns for three images");
  assert.equal(grid.height, 2);
  assert.deepEqual(Array.from(grid.data.subarray(0, 12)), [...image.data, ...image.data]);
  assert.deepEqual(Array.from(grid.data.subarray(18)), [0, 0, 0, 0, 0, 0], "the empty cell is black");
});

test("readImage: any size to the model's square, centre-cropped or stretched", async () => {
  const wide = await writePicture(dir, "wide.png", 30, 10);
  const cropped = await readImage(wide, { size: 10 });
  assert.equal(cropped.tensor.length, 3 * 10 * 10);
  assert.equal(cropped.decoded.width, 30);
  // Centre crop at the same scale: the middle 10 columns, unchanged.
  const { data } = await sharp(wide).raw().toBuffer({ resolveWithObject: true });
  const bytes = tensorToImages(cropped.tensor, [1, 3, 10, 10])[0].data;
  assert.equal(bytes[0], data[10 * 3], "first pixel of the crop is column 10 of the source");
  const stretched = await readImage(wide, { size: 10, fit: "stretch" });
  assert.ok(
    stretched.tensor.some((v, i) => v !== cropped.tensor[i]),
    "stretching differs from cropping",
  );
  await assert.rejects(
    readImage(dir, { size: 8 }),
    (e: unknown) => e instanceof ImageError && /is a directory/.test(e.message),
  );
});

test("readMask: white keeps, nearest resize and threshold, alpha when transparent", async () => {
  const path = await writeMask(dir, "m.png", 8, 8, { x0: 0, x1: 0.5, y0: 0, y1: 1 });
  const mask = await readMask(path, { size: 4 });
  assert.deepEqual(Array.from(mask), [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
  // A black picture whose right half is transparent: alpha decides (opaque = keep).
  const rgba = Buffer.alloc(8 * 8 * 4);
  for (let p = 0; p < 64; p++) rgba[p * 4 + 3] = p % 8 < 4 ? 255 : 0;
  const alpha = join(dir, "alpha.png");
  await sharp(rgba, { raw: { width: 8, height: 8, channels: 4 } })
    .png()
    .toFile(alpha);
  assert.deepEqual(Array.from(await readMask(alpha, { size: 2 })), [1, 0, 1, 0]);
});

test("a mask carried to a higher resolution as F.interpolate(mode='nearest')", () => {
  const mask = Float32Array.from([1, 0, 0, 1]);
  assert.deepEqual(Array.from(resizeMaskNearest(mask, 2, 4)), [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  assert.equal(resizeMaskNearest(mask, 2, 2), mask);
});

test("writePng writes atomically into new directories; numbered paths for batches", async () => {
  const image: RgbImage = { width: 3, height: 2, channels: 3, data: new Uint8Array(18).fill(77) };
  const path = join(dir, "deep", "er", "out.png");
  await writePng(path, image);
  const back = await readPng(path);
  assert.equal(back.width, 3);
  assert.ok(
    back.data.every((v) => v === 77),
    "pixels survive",
  );
  assert.deepEqual(readdirSync(join(dir, "deep", "er")), ["out.png"], "no temporary file is left");
  assert.equal(numberedPath("a/out.png", 2), "a/out-2.png");
  assert.equal(numberedPath("out", 1), "out-1.png");
  await assert.rejects(writePng(join(path, "x.png"), image), /cannot write/);
});
