// Batch assembly pieces: caption dropout, tokenization of dropped captions, inpainting masks and the
// super-res low-res input.
import assert from "node:assert/strict";
import { test } from "node:test";
import { END_TOKEN } from "../../packages/glide-ts/src/glide/tokenizer.ts";
import { quantize8bit } from "../../packages/glide-ts/src/image/pixels.ts";
import { dropCaptions, tokenizeCaptions } from "../../packages/glide-ts/src/train/batch-captions.ts";
import { downsampleBox, lowResFromImages } from "../../packages/glide-ts/src/train/batch-lowres.ts";
import { randomInpaintMask, randomInpaintMasks } from "../../packages/glide-ts/src/train/batch-masks.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

test("caption dropout: deterministic per seed, about p of the captions, one draw per caption", () => {
  const captions = Array.from({ length: 10000 }, (_, i) => `caption ${i}`);
  const a = dropCaptions(captions, new Rng(1));
  assert.deepEqual(a, dropCaptions(captions, new Rng(1)), "the same seed must drop the same captions");
  assert.notDeepEqual(a, dropCaptions(captions, new Rng(2)), "another seed must drop others");
  const dropped = a.filter((c) => c === "").length;
  assert.ok(Math.abs(dropped - 2000) < 150, `default p = 0.2 dropped ${dropped} of 10000`);
  assert.ok(
    a.every((c, i) => c === "" || c === captions[i]),
    "kept captions must be unchanged",
  );
  assert.equal(dropCaptions(captions, new Rng(1), 0).filter((c) => c === "").length, 0);
  assert.equal(dropCaptions(captions, new Rng(1), 1).filter((c) => c !== "").length, 0);
  // The stream advances by one draw per caption whatever p is.
  const r1 = new Rng(3);
  const r2 = new Rng(3);
  dropCaptions(captions.slice(0, 5), r1, 0);
  dropCaptions(captions.slice(0, 5), r2, 0.7);
  assert.equal(r1.nextUint32(), r2.nextUint32(), "p must not change how much of the stream is used");
  assert.throws(() => dropCaptions(captions, new Rng(1), 1.5), /caption dropout/);
});

test("tokenized batch: a dropped caption is all padding with an all-false mask", () => {
  const { tokens, mask } = tokenizeCaptions(["a red flower", ""], 8);
  assert.equal(tokens.length, 16);
  assert.deepEqual(Array.from(mask.subarray(0, 8)), [1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(mask.subarray(8)), new Array(8).fill(0));
  assert.deepEqual(Array.from(tokens.subarray(8), Number), new Array(8).fill(END_TOKEN));
});

test("low-res input: 4× box average, then 8-bit levels", () => {
  // One 8×8 channel whose 4×4 blocks hold 0..15, 16..31, … : block means are known.
  const image = Float32Array.from({ length: 64 }, (_, i) => {
    const y = Math.floor(i / 8);
    const x = i % 8;
    return (Math.floor(y / 4) * 2 + Math.floor(x / 4)) * 0.25 + ((y % 4) * 4 + (x % 4) - 7.5) * 0.01;
  });
  assert.deepEqual(
    Array.from(downsampleBox(image, [1, 1, 8, 8], 4), (v) => Number(v.toFixed(6))),
    [0, 0.25, 0.5, 0.75],
  );
  const q = quantize8bit(Float32Array.of(-1, 1, 0, -2, 2, 0.5));
  // 0 → 127.5 rounds half to even (128); 0.5 → 191.25 → 191.
  // In float32, op by op, as the reference computes it.
  const expected = [0, 255, 128, 0, 255, 191].map((k) => Math.fround(Math.fround(k / 127.5) - 1));
  assert.deepEqual(Array.from(q), expected);
  const low = lowResFromImages(new Float32Array(3 * 16 * 16).fill(0.3), [1, 3, 16, 16], 4);
  assert.equal(low.length, 3 * 4 * 4);
  assert.ok(
    low.every((v) => v === Math.fround(Math.fround(166 / 127.5) - 1)),
    "a flat 0.3 image becomes the flat level 166",
  );
  assert.throws(() => lowResFromImages(new Float32Array(3 * 16 * 16), [1, 3, 16, 16], 5), /must divide/);
});

test("inpainting masks: binary, deterministic per seed, always something to fill and something known", () => {
  const a = randomInpaintMasks(new Rng(4), 3, 16, 16);
  assert.deepEqual(a, randomInpaintMasks(new Rng(4), 3, 16, 16), "the same seed must give the same masks");
  const rng = new Rng(9);
  let holes = 0;
  for (let i = 0; i < 300; i++) {
    const size = [8, 16, 64][i % 3]!;
    const m = randomInpaintMask(rng, size, size);
    const known = m.reduce((s, v) => s + v, 0);
    assert.ok(
      m.every((v) => v === 0 || v === 1),
      "mask values must be 0 or 1",
    );
    assert.ok(known < m.length, `mask ${i} (${size}×${size}) erases nothing`);
    assert.ok(known > 0, `mask ${i} (${size}×${size}) erases everything`);
    holes += (m.length - known) / m.length;
  }
  const mean = holes / 300;
  assert.ok(mean > 0.05 && mean < 0.6, `masks erase ${mean.toFixed(3)} of the image on average`);
});

test("super-res crops: the graph takes crop-sized images, the low-res input matches the crop", async () => {
  const { GlideModel } = await import("../../packages/glide-ts/src/glide/model.ts");
  const { buildTrainingGraph } = await import("../../packages/glide-ts/src/train/objective-graph.ts");
  const { assembleBatch } = await import("../../packages/glide-ts/src/train/batch.ts");
  const { fixtureConfig } = await import("../fixtures.ts");
  const config = fixtureConfig("superres"); // 16×16 from 4×4
  const model = new GlideModel(config, { init: 1 });
  const graph = buildTrainingGraph(model, { batch: 2, cropSize: 8 });
  assert.equal(graph.imageSize, 8);
  assert.equal(graph.sourceSize, 16);
  assert.equal(graph.lowResSize, 2);
  assert.deepEqual(graph.inputs.x_start!.shape, [2, 3, 8, 8]);
  // Each pixel's value encodes its position, so the crop's place can be read back.
  const image = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => (i % 256) / 256);
  const examples = [
    { image, caption: "a" },
    { image, caption: "b" },
  ];
  const { feeds } = assembleBatch(graph, examples, new Rng(3));
  const x = feeds.x_start as Float32Array;
  for (let n = 0; n < 2; n++) {
    const first = Math.round(x[n * 192]! * 256);
    const [top, left] = [Math.floor(first / 16), first % 16];
    assert.ok(top % 4 === 0 && left % 4 === 0 && top <= 8 && left <= 8, `corner (${top}, ${left}) on the 4-pixel grid`);
    for (let y = 0; y < 8; y++)
      for (let xx = 0; xx < 8; xx++) assert.equal(x[n * 192 + y * 8 + xx], image[(top + y) * 16 + left + xx]);
  }
  const expectedLow = lowResFromImages(x, [2, 3, 8, 8], 2);
  assert.deepEqual(feeds.low_res, expectedLow);
  assert.throws(() => buildTrainingGraph(model, { batch: 2, cropSize: 6 }), /multiple of 8/);
  assert.throws(
    () => buildTrainingGraph(new GlideModel(fixtureConfig(), { init: 1 }), { batch: 2, cropSize: 8 }),
    /super-res variants only/,
  );
});
