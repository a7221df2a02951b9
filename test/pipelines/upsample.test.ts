// upsample() on the fixture upsampler (16×16 output): a picture file resized to the low-res size,
// the reference's defaults (ddim, fast27, temperature 0.997), determinism and option checks.

import assert from "node:assert/strict";
import { test } from "node:test";
import { upsample } from "../../packages/glide-ts/src/pipelines/upsample.ts";
import { fixtureModel, tempDir, writePicture } from "./helpers.ts";

const dir = tempDir();

test("upsample: a picture of any size becomes the upsampler's input, the result its full size", async () => {
  const upsampler = await fixtureModel("superres");
  const picture = await writePicture(dir, "small.png", 9, 7);
  const result = await upsample({ image: picture, prompt: "a corgi", upsampler, seed: 4 });
  assert.deepEqual(result.shape, [1, 3, 16, 16]);
  assert.equal(result.images[0].width, 16);
  assert.equal(result.timings.upsample?.steps, 10, "DPM-Solver++ at 10 steps by default");
  assert.equal(result.settings.upsample?.sampler, "dpm++2m");
  assert.equal(result.timings.base, null);

  const again = await upsample({ image: picture, prompt: "a corgi", upsampler, seed: 4 });
  assert.ok(
    again.samples.every((v, i) => Object.is(v, result.samples[i])),
    "same seed: bit-identical",
  );
  const lowRes8 = await upsample({ image: picture, prompt: "a corgi", upsampler, seed: 4, lowResSize: 8 });
  assert.ok(
    lowRes8.samples.some((v, i) => v !== result.samples[i]),
    "the low-res size is an option (default image_size / 4)",
  );
  const batch = await upsample({
    image: picture,
    prompt: "a corgi",
    upsampler,
    seed: 4,
    batchSize: 2,
    sampler: "dpm++2m",
    steps: 6,
    temperature: 1,
  });
  assert.equal(batch.images.length, 2);
  assert.equal(batch.timings.upsample?.steps, 6);
});

test("upsample rejects a base model, a bad sampler and a bad temperature before sampling", async () => {
  const upsampler = await fixtureModel("superres");
  const picture = await writePicture(dir, "p.png", 4, 4);
  const base = { image: picture, prompt: "x", upsampler };
  await assert.rejects(upsample({ ...base, upsampler: await fixtureModel("text2im") }), /expected an upsampler/);
  await assert.rejects(upsample({ ...base, sampler: "heun" }), /unknown sampler 'heun'/);
  await assert.rejects(upsample({ ...base, steps: 0 }), /steps must be an integer/);
  await assert.rejects(upsample({ ...base, temperature: -1 }), /temperature must be a positive number/);
  await assert.rejects(upsample({ ...base, lowResSize: 0 }), /low-res size/);
});
