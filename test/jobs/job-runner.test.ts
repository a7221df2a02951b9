import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CancelledError } from "../../packages/glide-ts/src/errors.ts";
import { CheckpointError } from "../../packages/glide-ts/src/io/errors.ts";
import { JobRunner } from "../../packages/glide-ts/src/jobs/job-runner.ts";
import { PipelineError } from "../../packages/glide-ts/src/pipelines/errors.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import type { StepEvent } from "../../packages/glide-ts/src/pipelines/types.ts";
import { variation } from "../../packages/glide-ts/src/pipelines/variation.ts";
import { fixtureFiles, fixtureModel } from "../pipelines/helpers.ts";

const runner = JobRunner.start();
after(() => runner.close());

test("a job runs in the worker with progress and previews while this thread stays free", async () => {
  const files = fixtureFiles("text2im");
  const info = await runner.load("base", { checkpoint: files.checkpoint, config: files.config });
  assert.equal(info.variant, "text2im");
  assert.equal(info.imageSize, 16);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const events: StepEvent[] = [];
  const options = { prompt: "a corgi", sampler: "ddim", steps: 20, seed: 4, threads: 1, previewEvery: 5 };
  const result = await runner.run(
    { pipeline: "textToImage", model: "base", options },
    { onProgress: (e) => e.kind === "step" && events.push(e) },
  );
  clearInterval(timer);
  assert.ok(ticks >= 5, `the main thread's timer ticked ${ticks} times`);
  assert.deepEqual(
    events.map((e) => e.step),
    [...Array(21).keys()],
  );
  assert.equal(events.filter((e) => e.preview).length, 4);
  // The same call in this thread gives the same picture: the worker runs the same pipeline.
  const here = await textToImage({ ...options, model: await fixtureModel("text2im") });
  assert.deepEqual(result.images[0]!.data, here.images[0]!.data);
  assert.equal(result.settings.seed, 4);
});

test("a job cancelled with its AbortSignal rejects with a CancelledError; errors keep their class", async () => {
  const files = fixtureFiles("text2im");
  await runner.load("base", { checkpoint: files.checkpoint, config: files.config });
  const controller = new AbortController();
  const job = runner.run(
    {
      pipeline: "textToImage",
      model: "base",
      options: { prompt: "x", sampler: "ddim", steps: 200, seed: 1, threads: 1 },
    },
    {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.kind === "step" && e.step === 2) controller.abort();
      },
    },
  );
  await assert.rejects(job, CancelledError);
  await assert.rejects(
    runner.run({ pipeline: "textToImage", model: "nope", options: { prompt: "x" } }),
    (e) => e instanceof PipelineError && /no model loaded as 'nope'/.test(e.message),
  );
  await assert.rejects(runner.load("bad", { checkpoint: "/no/such/file.pt" }), CheckpointError);
  // The worker is still usable after the failures.
  const ok = await runner.run({
    pipeline: "textToImage",
    model: "base",
    options: { prompt: "x", steps: 2, seed: 1, threads: 1 },
  });
  assert.equal(ok.images.length, 1);
});

test("a variation runs in the worker on the loaded models, upsampled when asked, as it does here", async () => {
  const base = fixtureFiles("text2im");
  const up = fixtureFiles("superres");
  await runner.load("base", { checkpoint: base.checkpoint, config: base.config });
  await runner.load("up", { checkpoint: up.checkpoint, config: up.config });
  const image = {
    width: 16,
    height: 16,
    channels: 3 as const,
    data: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 11) % 256),
  };
  const options = { image, strength: 0.4, sampler: "ddim", steps: 3, upsampleSteps: 2, seed: 7, threads: 1 };
  const stages = new Set<string>();
  const result = await runner.run(
    { pipeline: "variation", model: "base", upsampler: "up", options },
    { onProgress: (e) => stages.add(e.stage) },
  );
  assert.deepEqual([...stages], ["base", "upsample"]);
  assert.equal(result.settings.base?.strength, 0.4);
  assert.ok(result.settings.upsample);
  assert.equal(result.lowRes?.length, 1);
  const here = await variation({
    ...options,
    model: await fixtureModel("text2im"),
    upsampler: await fixtureModel("superres"),
  });
  assert.deepEqual(result.images[0]!.data, here.images[0]!.data);
  await assert.rejects(
    runner.run({ pipeline: "variation", model: "base", options: { image, strength: 2 } }),
    (e) => e instanceof PipelineError && /strength must be a number in \(0, 1\]/.test(e.message),
  );
});
