// What a caller of the library gets around a run: cancellation, previews, timings and the settings.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, GlideError } from "../../packages/glide-ts/src/errors.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import type { ProgressEvent, StepEvent } from "../../packages/glide-ts/src/pipelines/types.ts";
import { upsample } from "../../packages/glide-ts/src/pipelines/upsample.ts";
import { fixtureModel } from "./helpers.ts";

test("an AbortSignal stops sampling between steps with a CancelledError", async () => {
  const model = await fixtureModel("text2im");
  const controller = new AbortController();
  const steps: number[] = [];
  const run = textToImage({
    prompt: "a corgi",
    model,
    sampler: "ddim",
    steps: 10,
    seed: 1,
    threads: 1,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.kind !== "step") return;
      steps.push(e.step);
      if (e.step === 3) controller.abort();
    },
  });
  await assert.rejects(run, (error) => error instanceof CancelledError && error instanceof GlideError);
  assert.deepEqual(steps, [0, 1, 2, 3], "no step ran after the abort");
  // An already aborted signal does no step at all.
  await assert.rejects(
    textToImage({ prompt: "x", model, steps: 5, seed: 1, threads: 1, signal: AbortSignal.abort() }),
    CancelledError,
  );
});

test("previews: the predicted x₀ as images every k steps and at the last; timings and an ETA", async () => {
  const model = await fixtureModel("text2im");
  const events: StepEvent[] = [];
  const result = await textToImage({
    prompt: "a corgi",
    model,
    sampler: "ddim",
    steps: 7,
    seed: 2,
    batchSize: 2,
    threads: 1,
    previewEvery: 3,
    onProgress: (e: ProgressEvent) => {
      if (e.kind === "step") events.push(e);
    },
  });
  assert.deepEqual(
    events.filter((e) => e.preview).map((e) => e.step),
    [3, 6, 7],
  );
  for (const e of events.filter((e) => e.preview)) {
    assert.equal(e.preview!.length, 2, "one preview per sample");
    assert.equal(e.preview![0]!.width, 16);
  }
  // The last step's prediction is the result (the sampler's final x₀ is its output).
  const last = events.at(-1)!.preview!;
  assert.deepEqual(last[1]!.data, result.images[1]!.data);
  assert.ok(events.every((e) => e.elapsedSeconds >= 0));
  assert.equal(events[0]!.etaSeconds, null);
  assert.ok(events.slice(1).every((e) => e.etaSeconds !== null && e.etaSeconds >= 0));
  assert.equal(events.at(-1)!.etaSeconds, 0);
  await assert.rejects(textToImage({ prompt: "x", model, previewEvery: -1, threads: 1 }), /previewEvery/);
});

test("the result carries every setting it used, defaults resolved", async () => {
  const model = await fixtureModel("text2im");
  const upsampler = await fixtureModel("superres");
  const result = await textToImage({ prompt: "a corgi", model, upsampler, steps: 3, upsampleSteps: 2, threads: 1 });
  const { settings } = result;
  assert.equal(settings.seed, result.seed);
  assert.equal(settings.prompt, "a corgi");
  assert.deepEqual(settings.base, {
    sampler: "dpm++2m",
    steps: 3,
    evaluations: 3,
    guidanceScale: 3,
    clipGuidanceScale: null,
    temperature: 1,
    model: { variant: "text2im", imageSize: 16 },
  });
  assert.equal(settings.upsample!.sampler, "dpm++2m");
  assert.equal(settings.upsample!.temperature, 0.997);
  assert.equal(settings.upsample!.guidanceScale, null);
  // Replaying the settings gives the same image.
  const again = await textToImage({
    prompt: settings.prompt,
    model,
    upsampler,
    seed: settings.seed,
    steps: settings.base!.steps,
    sampler: settings.base!.sampler,
    guidanceScale: settings.base!.guidanceScale!,
    upsampleSteps: settings.upsample!.steps,
    upsampleSampler: settings.upsample!.sampler,
    upsampleTemperature: settings.upsample!.temperature,
    threads: 1,
  });
  assert.deepEqual(again.samples, result.samples);
  const up = await upsample({
    image: { width: 4, height: 4, channels: 3, data: new Uint8Array(48).fill(200) },
    prompt: "x",
    upsampler,
    steps: 2,
    seed: 3,
    threads: 1,
  });
  assert.equal(up.settings.base, null);
  assert.equal(up.settings.upsample!.evaluations, 2);
});
