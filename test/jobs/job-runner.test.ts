import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CancelledError } from "../../src/errors.ts";
import { CheckpointError } from "../../src/io/errors.ts";
import { JobRunner } from "../../src/jobs/job-runner.ts";
import { PipelineError } from "../../src/pipelines/errors.ts";
import { textToImage } from "../../src/pipelines/text-to-image.ts";
import type { StepEvent } from "../../src/pipelines/types.ts";
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
