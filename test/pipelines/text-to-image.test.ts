// textToImage on the tiny fixture models: every sampler, determinism, batches, the upsampler stage.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLER_NAMES } from "../../packages/glide-ts/src/diffusion/samplers/index.ts";
import { writePng } from "../../packages/glide-ts/src/image/write.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import type { ProgressEvent } from "../../packages/glide-ts/src/pipelines/types.ts";
import { fixtureModel, readPng, sameBytes, tempDir } from "./helpers.ts";

const dir = tempDir();

for (const sampler of SAMPLER_NAMES) {
  test(`textToImage with ${sampler}: a 16×16 PNG, the same for the same seed, another for another seed`, async () => {
    const model = await fixtureModel("text2im");
    const run = (seed: number) => textToImage({ prompt: "a corgi", model, sampler, steps: 6, seed, threads: 1 });
    const a = await run(11);
    assert.deepEqual(a.shape, [1, 3, 16, 16]);
    assert.equal(a.images.length, 1);
    assert.ok(
      a.samples.every((v) => v >= -1 && v <= 1),
      "samples are clipped to [-1, 1]",
    );
    const path = join(dir, `${sampler}.png`);
    await writePng(path, a.images[0]);
    const png = await readPng(path);
    assert.equal(png.width, 16);
    assert.equal(png.height, 16);
    assert.ok(sameBytes(png.data, a.images[0].data), "the PNG holds the image");

    const again = await run(11);
    assert.ok(
      again.samples.every((v, i) => Object.is(v, a.samples[i])),
      "same seed and options: bit-identical samples",
    );
    const other = await run(12);
    assert.ok(
      other.samples.some((v, i) => v !== a.samples[i]),
      "another seed gives another image",
    );
  });
}

test("a batch gives distinct images, reports progress per step, and times the stage", async () => {
  const model = await fixtureModel("text2im");
  const events: ProgressEvent[] = [];
  const result = await textToImage({
    prompt: "a red bowtie",
    model,
    sampler: "ddim",
    steps: 4,
    seed: 5,
    batchSize: 3,
    guidanceScale: 4,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(result.shape, [3, 3, 16, 16]);
  assert.equal(result.images.length, 3);
  assert.ok(!sameBytes(result.images[0].data, result.images[1].data), "images of a batch differ");
  assert.deepEqual(
    events.map((e) => (e.kind === "setup" ? "setup" : `${e.step}/${e.total}`)),
    ["setup", "0/4", "1/4", "2/4", "3/4", "4/4"],
  );
  assert.equal(result.seed, 5);
  assert.equal(result.timings.base?.steps, 4);
  assert.equal(result.timings.upsample, null);
  assert.equal(result.lowRes, null);
});

test("the seed is random when not given, and reported", async () => {
  const model = await fixtureModel("text2im");
  const result = await textToImage({ prompt: "", model, steps: 2 });
  assert.ok(Number.isSafeInteger(result.seed) && result.seed >= 0, `seed ${result.seed} is reported`);
});

test("text → small → upsampled: the upsampler runs DPM-Solver++ (10 steps) on the 8-bit base images", async () => {
  const model = await fixtureModel("text2im");
  const upsampler = await fixtureModel("superres");
  const events: string[] = [];
  const options = {
    prompt: "a corgi",
    model,
    upsampler,
    steps: 5,
    seed: 21,
    batchSize: 2,
    onProgress: (e: ProgressEvent) => events.push(`${e.stage}:${e.kind}`),
  };
  const result = await textToImage(options);
  assert.deepEqual(result.shape, [2, 3, 16, 16]);
  assert.equal(result.lowRes?.length, 2);
  assert.equal(result.timings.upsample?.steps, 10, "DPM-Solver++ at 10 steps by default");
  assert.equal(result.settings.upsample?.sampler, "dpm++2m");
  assert.ok(events.includes("upsample:setup") && events.includes("upsample:step"), "upsampling reports progress");
  const again = await textToImage({ ...options, onProgress: undefined });
  assert.ok(
    again.samples.every((v, i) => Object.is(v, result.samples[i])),
    "the whole pipeline is deterministic",
  );
  const hotter = await textToImage({ ...options, onProgress: undefined, upsampleTemperature: 1 });
  assert.ok(
    hotter.samples.some((v, i) => v !== result.samples[i]),
    "the temperature scales the upsampler's noise",
  );
  const ddpm = await textToImage({ ...options, onProgress: undefined, upsampleSampler: "ddpm", upsampleSteps: 7 });
  assert.equal(ddpm.timings.upsample?.steps, 7, "any sampler and step count for the upsampler");
});

test("bad options fail with a message naming them", async () => {
  const model = await fixtureModel("text2im");
  const upsampler = await fixtureModel("superres");
  await assert.rejects(textToImage({ prompt: "x", model, sampler: "euler" }), /unknown sampler 'euler'/);
  await assert.rejects(textToImage({ prompt: "x", model, steps: 0 }), /steps must be an integer from 1 to 1000, got 0/);
  await assert.rejects(textToImage({ prompt: "x", model, steps: "fast" }), /bad steps 'fast'/);
  await assert.rejects(textToImage({ prompt: "x", model, batchSize: 0 }), /batch size/);
  await assert.rejects(textToImage({ prompt: "x", model, seed: -1 }), /seed/);
  await assert.rejects(textToImage({ prompt: "x", model: upsampler }), /expected a base model/);
  await assert.rejects(textToImage({ prompt: "x", model, upsampler: model }), /expected an upsampler/);
  await assert.rejects(
    textToImage({ prompt: "x", model, upsampler, upsampleTemperature: 0 }),
    /temperature must be a positive number/,
  );
});
