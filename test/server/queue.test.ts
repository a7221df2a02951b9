// The in-process job queue (src/server/queue/local-queue.ts) on a fake executor.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type JobExecutor,
  JobTimeoutError,
  QueueClosedError,
  QueueFullError,
  type SubmitOptions,
} from "../../packages/app/src/server/queue/job-queue.ts";
import { type JobOutcome, LocalJobQueue } from "../../packages/app/src/server/queue/local-queue.ts";
import { CancelledError } from "../../packages/glide-ts/src/errors.ts";
import type { PipelineResult } from "../../packages/glide-ts/src/pipelines/types.ts";

/** Jobs are milliseconds to run; a job stops early with a CancelledError when its signal aborts. */
class SleepExecutor implements JobExecutor<number> {
  readonly started: number[] = [];
  constructor(readonly slots: number) {}

  run(_slot: number, ms: number, options: SubmitOptions & { signal: AbortSignal }): Promise<PipelineResult> {
    this.started.push(ms);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ seed: ms } as PipelineResult), ms);
      options.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new CancelledError("cancelled"));
      });
    });
  }
}

test("jobs run in order on the free slots; past capacity a QueueFullError with a retry time", async () => {
  const executor = new SleepExecutor(2);
  const queue = new LocalJobQueue(executor, { capacity: 1 });
  const a = await queue.submit(40);
  const b = await queue.submit(40);
  const c = await queue.submit(10);
  assert.deepEqual(queue.stats(), { waiting: 1, running: 2, capacity: 1, workers: 2 });
  await assert.rejects(queue.submit(1), (e) => e instanceof QueueFullError && e.retryAfterSeconds >= 1);
  assert.deepEqual(await Promise.all([a.result, b.result, c.result].map(async (r) => (await r).seed)), [40, 40, 10]);
  assert.deepEqual(executor.started, [40, 40, 10]);
  assert.deepEqual(queue.stats(), { waiting: 0, running: 0, capacity: 1, workers: 2 });
});

test("an aborted signal drops a waiting job and cancels a running one; a time limit stops a long one", async () => {
  const outcomes: JobOutcome[] = [];
  const queue = new LocalJobQueue(new SleepExecutor(1), {
    capacity: 4,
    timeoutMs: 100,
    observer: { ended: (outcome) => outcomes.push(outcome) },
  });
  const running = new AbortController();
  const waiting = new AbortController();
  const first = await queue.submit(5_000, { signal: running.signal });
  const second = await queue.submit(5_000, { signal: waiting.signal });
  waiting.abort();
  await assert.rejects(second.result, CancelledError);
  running.abort();
  await assert.rejects(first.result, CancelledError);
  const slow = await queue.submit(5_000);
  await assert.rejects(slow.result, (e) => e instanceof JobTimeoutError && /time limit of 0.1 s/.test(e.message));
  assert.deepEqual(outcomes, ["cancelled", "cancelled", "timeout"]);
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(queue.submit(1, { signal: aborted.signal }), CancelledError);
});

test("drain takes no new jobs and resolves when the accepted ones have ended", async () => {
  const queue = new LocalJobQueue(new SleepExecutor(1), { capacity: 4 });
  const jobs = [await queue.submit(30), await queue.submit(30)];
  let drained = false;
  const draining = queue.drain().then(() => {
    drained = true;
  });
  await assert.rejects(queue.submit(1), QueueClosedError);
  await jobs[0]!.result;
  assert.equal(drained, false, "a job is still waiting");
  await jobs[1]!.result;
  await draining;
  assert.equal(drained, true);
});
