// Per-image seeds: image i of a run with seed S is the image of seed S + i made alone, in both stages,
// with a stochastic sampler and with the re-noised known region of an edit.

import assert from "node:assert/strict";
import { test } from "node:test";
import { edit } from "../../packages/glide-ts/src/pipelines/edit.ts";
import { ImageNoise, imageSeeds } from "../../packages/glide-ts/src/pipelines/image-seeds.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import type { PipelineResult } from "../../packages/glide-ts/src/pipelines/types.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { fixtureModel, tempDir, writeMask, writePicture } from "./helpers.ts";

const dir = tempDir();

function assertImageIsAlone(batch: PipelineResult, index: number, alone: PipelineResult): void {
  assert.equal(alone.seed, batch.seeds[index]);
  assert.deepEqual(alone.images[0]!.data, batch.images[index]!.data, `image ${index + 1} made alone`);
}

test("imageSeeds: S, S+1, …; ImageNoise draws image i's share from seed S+i", () => {
  assert.deepEqual(imageSeeds(5, 3), [5, 6, 7]);
  assert.throws(() => imageSeeds(Number.MAX_SAFE_INTEGER, 2), /too large for 2 images/);
  const noise = new ImageNoise([5, 6]).normalArray(8);
  assert.deepEqual(noise.subarray(0, 4), new Rng(5).normalArray(4));
  assert.deepEqual(noise.subarray(4), new Rng(6).normalArray(4));
  assert.throws(() => new ImageNoise([1, 2]).normalArray(3), /does not split over 2 images/);
});

test("textToImage with DDPM and the upsampler: image 3 of seed 5 is seed 7 alone", async () => {
  const model = await fixtureModel("text2im");
  const upsampler = await fixtureModel("superres");
  const options = { prompt: "a kite", model, upsampler, sampler: "ddpm", steps: 4, upsampleSteps: 3, threads: 1 };
  const batch = await textToImage({ ...options, seed: 5, batchSize: 3 });
  assert.deepEqual(batch.seeds, [5, 6, 7]);
  assert.equal(batch.seed, 5);
  assertImageIsAlone(batch, 2, await textToImage({ ...options, seed: 7 }));
  assert.notDeepEqual(batch.images[1]!.data, batch.images[2]!.data);
});

test("edit with a plain text2im model (re-noised known region): image 2 of seed 3 is seed 4 alone", async () => {
  const model = await fixtureModel("text2im");
  const image = await writePicture(dir, "picture.png", 32, 32);
  const mask = await writeMask(dir, "mask.png", 32, 32, { x0: 0.3, x1: 0.7, y0: 0.2, y1: 0.6 });
  const options = { prompt: "a vase", image, mask, model, sampler: "ddpm", steps: 4, threads: 1 };
  const batch = await edit({ ...options, seed: 3, batchSize: 2 });
  assert.deepEqual(batch.seeds, [3, 4]);
  assertImageIsAlone(batch, 1, await edit({ ...options, seed: 4 }));
});
