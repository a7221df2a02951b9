// variation: the picture diffused to t_start = round(strength · (T − 1)) and denoised from there on
// the schedule cut at t_start (sampleModel's startFrom), then optionally upsampled, on the tiny
// fixture models.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError } from "../../packages/glide-ts/src/errors.ts";
import type { RawImage } from "../../packages/glide-ts/src/image/pixels.ts";
import { PipelineError } from "../../packages/glide-ts/src/pipelines/errors.ts";
import type { StepEvent } from "../../packages/glide-ts/src/pipelines/types.ts";
import { DEFAULT_VARIATION_STRENGTH, variation } from "../../packages/glide-ts/src/pipelines/variation.ts";
import { fixtureModel } from "./helpers.ts";

const picture: RawImage = {
  width: 16,
  height: 16,
  channels: 3,
  data: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i % 3 === 0 ? 220 : (i * 7) % 256)),
};

/** Mean squared difference of two 8-bit images, in [0, 1] units. */
const meanSquaredDifference = (a: Uint8Array, b: Uint8Array) =>
  a.reduce((sum, v, i) => sum + ((v - b[i]!) / 255) ** 2, 0) / a.length;

test("a weak variation stays near the picture, a full one does not; the same seed gives the same image", async () => {
  const model = await fixtureModel("text2im");
  const run = (strength: number, seed = 5) =>
    variation({ model, image: picture, strength, sampler: "ddim", steps: 3, seed, threads: 1 });
  const weak = await run(0.02);
  const full = await run(1);
  const near = meanSquaredDifference(weak.images[0]!.data, picture.data);
  const far = meanSquaredDifference(full.images[0]!.data, picture.data);
  assert.ok(near < 0.01, `strength 0.02 changes the picture by ${near} (mean squared)`);
  assert.ok(far > 4 * near, `strength 1 (${far}) is far from the picture, further than 0.02 (${near})`);
  assert.deepEqual((await run(0.02)).images[0]!.data, weak.images[0]!.data);
  assert.notDeepEqual((await run(0.02, 6)).images[0]!.data, weak.images[0]!.data);
  assert.deepEqual(weak.shape, [1, 3, 16, 16], "at the model's size");
  assert.equal(weak.images[0]!.width, 16);
  assert.equal(weak.lowRes, null);
  assert.equal(weak.settings.base?.strength, 0.02);
  assert.equal(weak.settings.base?.startTimestep, Math.round(0.02 * 999));
  assert.equal(full.settings.base?.startTimestep, 999);
  assert.equal(weak.settings.base?.evaluations, 3);
  assert.equal(weak.settings.base?.guidanceScale, 1, "no guidance with the empty prompt");
  assert.equal(weak.settings.prompt, "");
});

test("the default strength is reported; steps are capped by the re-noised part and default to the sampler's count × strength", async () => {
  const model = await fixtureModel("text2im");
  const byDefault = await variation({ model, image: picture, sampler: "ddim", steps: 2, seed: 1, threads: 1 });
  assert.equal(byDefault.settings.base?.strength, DEFAULT_VARIATION_STRENGTH);
  assert.equal(byDefault.settings.base?.startTimestep, Math.round(DEFAULT_VARIATION_STRENGTH * 999));
  const tiny = await variation({ model, image: picture, prompt: "x", strength: 0.002, steps: 10, seed: 1, threads: 1 });
  assert.equal(tiny.settings.base?.startTimestep, 2);
  assert.equal(tiny.settings.base?.evaluations, 3, "timesteps 2, 1, 0 at most");
  const events: StepEvent[] = [];
  const guided = await variation({
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

test("with an upsampler the variation is upsampled", async () => {
  const model = await fixtureModel("text2im");
  const upsampler = await fixtureModel("superres");
  const stages: string[] = [];
  const result = await variation({
    model,
    upsampler,
    image: picture,
    strength: 0.3,
    sampler: "ddim",
    steps: 2,
    upsampleSteps: 2,
    seed: 2,
    threads: 1,
    onProgress: (e) => {
      if (e.kind === "setup") stages.push(e.stage);
    },
  });
  const side = upsampler.config.image_size;
  assert.deepEqual(result.shape, [1, 3, side, side]);
  assert.equal(result.lowRes?.length, 1);
  assert.equal(result.lowRes![0]!.width, 16);
  assert.ok(result.settings.upsample, "the upsample stage's settings");
  assert.ok(result.timings.upsample, "the upsample stage's timing");
  assert.equal(result.settings.base?.strength, 0.3);
  assert.deepEqual(stages, ["base", "upsample"]);
});

test("bad options are user errors; an aborted signal cancels", async () => {
  const model = await fixtureModel("text2im");
  const base = { model, image: picture, threads: 1 };
  for (const strength of [0, -0.5, 1.5, Number.NaN]) {
    await assert.rejects(variation({ ...base, strength }), (e) => {
      assert.ok(e instanceof PipelineError);
      assert.match(e.message, /strength must be a number in \(0, 1\]/);
      return true;
    });
  }
  await assert.rejects(variation({ ...base, steps: "fast27" }), /a step count, not a respacing/);
  await assert.rejects(variation({ ...base, sampler: "euler" }), /unknown sampler 'euler'/);
  await assert.rejects(variation({ ...base, model: await fixtureModel("superres") }), /expected a base model/);
  const controller = new AbortController();
  const cancelled = variation({
    ...base,
    sampler: "ddim",
    steps: 50,
    strength: 1,
    signal: controller.signal,
    onProgress: (e) => e.kind === "step" && e.step === 1 && controller.abort(),
  });
  await assert.rejects(cancelled, CancelledError);
});
