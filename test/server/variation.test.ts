// Variations (src/server/variation.ts): the picture diffused to t_start = strength · (T − 1) and
// denoised from there on the tiny fixture model.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError } from "../../src/errors.ts";
import type { RawImage } from "../../src/image/pixels.ts";
import type { StepEvent } from "../../src/pipelines/types.ts";
import { imageVariation } from "../../src/server/variation.ts";
import { fixtureModel } from "../pipelines/helpers.ts";

const picture: RawImage = {
  width: 16,
  height: 16,
  channels: 3,
  data: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i % 3 === 0 ? 220 : (i * 7) % 256)),
};

const meanDifference = (a: Uint8Array, b: Uint8Array) =>
  a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;

test("a weak variation stays near the picture, a full one does not; the same seed gives the same image", async () => {
  const model = await fixtureModel("text2im");
  const run = (strength: number, seed = 5) =>
    imageVariation({ model, image: picture, prompt: "", strength, sampler: "ddim", steps: 3, seed, threads: 1 });
  const weak = await run(0.02);
  const full = await run(1);
  const near = meanDifference(weak.images[0]!.data, picture.data);
  const far = meanDifference(full.images[0]!.data, picture.data);
  assert.ok(near < 20, `strength 0.02 changes the picture by ${near} per byte`);
  assert.ok(far > 2 * near, `strength 1 (${far}) is far from the picture, further than 0.02 (${near})`);
  assert.deepEqual((await run(0.02)).images[0]!.data, weak.images[0]!.data);
  assert.notDeepEqual((await run(0.02, 6)).images[0]!.data, weak.images[0]!.data);
  assert.equal(weak.startTimestep, Math.round(0.02 * 999));
  assert.equal(full.startTimestep, 999);
  assert.equal(weak.settings.base?.evaluations, 3);
  assert.equal(weak.settings.base?.guidanceScale, null, "no guidance with the empty prompt");
});

test("steps are capped by the re-noised part, default to the sampler's count × strength, and report progress", async () => {
  const model = await fixtureModel("text2im");
  const tiny = await imageVariation({
    model,
    image: picture,
    prompt: "x",
    strength: 0.002,
    steps: 10,
    seed: 1,
    threads: 1,
  });
  assert.equal(tiny.startTimestep, 2);
  assert.equal(tiny.settings.base?.evaluations, 3, "timesteps 2, 1, 0 at most");
  const events: StepEvent[] = [];
  const guided = await imageVariation({
    model,
    image: picture,
    prompt: "a red square",
    strength: 0.2,
    seed: 1,
    threads: 1,
    previewEvery: 2,
    onProgress: (e) => e.kind === "step" && events.push(e),
  });
  assert.equal(guided.settings.base?.evaluations, 5, "dpm++2m's 25 steps × 0.2");
  assert.equal(guided.settings.base?.guidanceScale, 3);
  assert.deepEqual(
    events.map((e) => e.step),
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    events.filter((e) => e.preview).map((e) => e.step),
    [2, 4, 5],
  );
});

test("bad options are user errors; an aborted signal cancels", async () => {
  const model = await fixtureModel("text2im");
  const base = { model, image: picture, prompt: "", threads: 1 };
  await assert.rejects(imageVariation({ ...base, strength: 0 }), /strength must be a number in \(0, 1\]/);
  await assert.rejects(imageVariation({ ...base, steps: "fast27" }), /a step count, not a respacing/);
  await assert.rejects(imageVariation({ ...base, sampler: "euler" }), /unknown sampler 'euler'/);
  await assert.rejects(imageVariation({ ...base, model: await fixtureModel("superres") }), /expected a base model/);
  const controller = new AbortController();
  const cancelled = imageVariation({
    ...base,
    sampler: "ddim",
    steps: 50,
    strength: 1,
    signal: controller.signal,
    onProgress: (e) => e.kind === "step" && e.step === 1 && controller.abort(),
  });
  await assert.rejects(cancelled, CancelledError);
});
