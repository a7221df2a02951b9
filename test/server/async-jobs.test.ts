// How long finished asynchronous jobs are kept (src/server/image-jobs.ts), on a queue that ends its
// jobs at once: past the TTL they are forgotten, and beyond the count kept the oldest go first; a
// shutdown cancels those still queued or running.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ImageJob } from "../../packages/app/src/server/image-job.ts";
import { AsyncJobs } from "../../packages/app/src/server/image-jobs.ts";
import type { JobQueue, JobTicket } from "../../packages/app/src/server/queue/job-queue.ts";
import type { PipelineResult } from "../../packages/glide-ts/src/pipelines/types.ts";

/** Every job succeeds at once; its id is its prompt. */
const instantQueue: JobQueue<ImageJob> = {
  submit: async (job): Promise<JobTicket> => ({ id: job.prompt, result: Promise.resolve({} as PipelineResult) }),
  position: async () => null,
  stats: () => ({ waiting: 0, running: 0, capacity: 1, workers: 1 }),
  drain: async () => undefined,
};

const job = (prompt: string) => ({ kind: "generate", prompt, n: 1, upsample: false, previewEvery: 0 }) as ImageJob;
const settle = () => new Promise((r) => setTimeout(r, 5));

test("finished jobs are forgotten past their time, and the oldest beyond the count kept", async () => {
  const jobs = new AsyncJobs({ ttlMs: 300, maxKept: 2, log: () => undefined });
  try {
    for (const name of ["a", "b", "c"]) {
      await jobs.submit(instantQueue, "me", job(name), async () => ({ image: name }));
      await settle();
    }
    assert.deepEqual(
      jobs.list("me", 10).map((j) => [j.id, j.status, j.output]),
      [
        ["c", "succeeded", { image: "c" }],
        ["b", "succeeded", { image: "b" }],
      ],
      "two kept, the oldest forgotten",
    );
    assert.equal(jobs.get("c", "someone else"), null);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(jobs.get("c", "me"), null, "forgotten past its time");
    assert.deepEqual(jobs.list("me", 10), []);
  } finally {
    jobs.close();
  }
});

test("a shutdown cancels the jobs that have not ended, through their queue", async () => {
  const signals: AbortSignal[] = [];
  const stuckQueue: JobQueue<ImageJob> = {
    ...instantQueue,
    submit: async (job, options) => {
      signals.push(options!.signal!);
      return { id: job.prompt, result: new Promise<PipelineResult>(() => undefined) };
    },
  };
  const jobs = new AsyncJobs({ ttlMs: 60_000, maxKept: 10, log: () => undefined });
  try {
    await jobs.submit(stuckQueue, "me", job("waiting"), async () => null);
    assert.equal(jobs.get("waiting", "me")!.status, "queued");
    jobs.cancelAll();
    assert.equal(jobs.get("waiting", "me")!.status, "cancelled");
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [true],
    );
  } finally {
    jobs.close();
  }
});
