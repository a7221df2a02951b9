// The Redis JobQueue (src/server/queue/redis-queue.ts) and its worker side (redis-worker.ts) on a real
// redis-server, in this process, with a fake executor: results and progress through Redis, errors of
// their class, a full queue, cancelling a waiting and a running job, the time limit, a duplicate end.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import type { ImageJob } from "../../packages/app/src/server/image-job.ts";
import {
  type JobExecutor,
  JobTimeoutError,
  QueueClosedError,
  QueueFullError,
  type SubmitOptions,
} from "../../packages/app/src/server/queue/job-queue.ts";
import type { JobOutcome } from "../../packages/app/src/server/queue/local-queue.ts";
import { redisKeys } from "../../packages/app/src/server/queue/redis-connection.ts";
import { RedisJobQueue } from "../../packages/app/src/server/queue/redis-queue.ts";
import { RedisQueueWorker } from "../../packages/app/src/server/queue/redis-worker.ts";
import { CancelledError } from "../../packages/glide-ts/src/errors.ts";
import type { RgbImage } from "../../packages/glide-ts/src/image/pixels.ts";
import { PipelineError } from "../../packages/glide-ts/src/pipelines/errors.ts";
import type { PipelineResult, ProgressEvent } from "../../packages/glide-ts/src/pipelines/types.ts";
import { FAKE_SERVED as SERVED, FAKE_SIDE as SIDE } from "./helpers.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

/** A picture whose pixels are all `value` in every channel but green, which is the pixel's index. */
function picture(value: number): RgbImage {
  const data = new Uint8Array(SIDE * SIDE * 3);
  for (let p = 0; p < SIDE * SIDE; p++) data.set([value, p, 255 - value], p * 3);
  return { width: SIDE, height: SIDE, channels: 3, data };
}

/** `steps` steps of 10 ms, a progress event each (with a preview when asked); the seed is the picture. */
class FakeExecutor implements JobExecutor<ImageJob> {
  readonly slots = 1;
  readonly signals: AbortSignal[] = [];

  run(_slot: number, job: ImageJob, options: SubmitOptions & { signal: AbortSignal }): Promise<PipelineResult> {
    this.signals.push(options.signal);
    if (job.sampler === "euler") return Promise.reject(new PipelineError("sampler: unknown sampler 'euler'"));
    const total = Number(job.steps ?? 3);
    const seed = job.seed ?? 0;
    return new Promise((resolve, reject) => {
      let step = 0;
      const tick = () => {
        if (options.signal.aborted) return reject(new CancelledError("the job was cancelled"));
        options.onProgress?.({
          kind: "step",
          stage: "base",
          step,
          total,
          elapsedSeconds: step / 100,
          etaSeconds: step === 0 ? null : (total - step) / 100,
          preview: job.previewEvery > 0 ? [picture(step)] : undefined,
        });
        if (step++ === total) resolve(result(seed, job.n));
        else setTimeout(tick, 10);
      };
      tick();
    });
  }
}

function result(seed: number, n: number): PipelineResult {
  const images = Array.from({ length: n }, () => picture(seed));
  const settings = { prompt: "x", seed, batchSize: n, base: null, upsample: null };
  return {
    images,
    samples: new Float32Array(n * 3 * SIDE * SIDE),
    shape: [n, 3, SIDE, SIDE],
    lowRes: null,
    seed,
    seeds: images.map((_, i) => seed + i),
    settings,
    timings: { base: { setup: 0, sampling: 0.1, steps: 3 }, upsample: null, totalSeconds: 0.1 },
  };
}

const job = (fields: Partial<ImageJob> = {}): ImageJob =>
  ({ kind: "generate", prompt: "x", n: 1, upsample: false, previewEvery: 0, ...fields }) as ImageJob;

let redis: RedisServer;
let db = 0;
const closers: (() => Promise<void>)[] = [];
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await redis?.stop();
});

/** A queue and one worker on a Redis database of their own. */
async function setUp(options: { capacity?: number; timeoutMs?: number; drainWithoutWorkersMs?: number } = {}) {
  const url = `${redis.url}/${++db}`;
  const outcomes: JobOutcome[] = [];
  const queue = await RedisJobQueue.connect({
    url,
    capacity: options.capacity ?? 4,
    timeoutMs: options.timeoutMs,
    drainWithoutWorkersMs: options.drainWithoutWorkersMs,
    observer: { ended: (outcome) => outcomes.push(outcome) },
  });
  const executor = new FakeExecutor();
  const worker = await RedisQueueWorker.start({ url, executor, served: SERVED });
  const client = new Redis(url);
  closers.push(async () => {
    await worker.close();
    await queue.close();
    client.disconnect();
  });
  return { queue, executor, worker, client, outcomes, url };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a job runs on a worker: the result, progress with previews in order, errors of their class", async () => {
  const { queue, outcomes } = await setUp();
  assert.deepEqual(await queue.served, SERVED, "the server learns the models from the worker");
  await until(() => queue.stats().workers === 1, "the worker to be seen");

  const events: ProgressEvent[] = [];
  const ticket = await queue.submit(job({ seed: 7, n: 2, steps: 3, previewEvery: 1 }), {
    onProgress: (e) => events.push(e),
  });
  const done = await ticket.result;
  assert.equal(done.seed, 7);
  assert.equal(done.images.length, 2);
  assert.deepEqual(done.images[1], picture(7), "the PNG that travelled decodes to the same pixels");
  assert.deepEqual(done.shape, [2, 3, SIDE, SIDE]);
  assert.equal(done.samples.length, 2 * 3 * SIDE * SIDE);
  assert.deepEqual(
    events.map((e) => (e.kind === "step" ? e.step : -1)),
    [0, 1, 2, 3],
  );
  const last = events.at(-1)!;
  assert.ok(last.kind === "step" && last.preview);
  assert.deepEqual(last.preview[0], picture(3));

  const failing = await queue.submit(job({ sampler: "euler" }));
  await assert.rejects(failing.result, (e) => e instanceof PipelineError && /unknown sampler 'euler'/.test(e.message));
  assert.deepEqual(outcomes, ["completed", "failed"]);
});

test("past capacity a QueueFullError; a cancelled job is removed while it waits, stopped on its worker when it runs", async () => {
  const { queue, executor, client, outcomes } = await setUp({ capacity: 1 });
  await queue.served;
  const running = new AbortController();
  const waiting = new AbortController();
  const first = await queue.submit(job({ steps: 10_000 }), { signal: running.signal });
  await until(() => executor.signals.length === 1, "the first job to run");
  const second = await queue.submit(job({ steps: 10_000 }), { signal: waiting.signal });
  await assert.rejects(queue.submit(job()), (e) => e instanceof QueueFullError && e.retryAfterSeconds >= 1);

  waiting.abort();
  await assert.rejects(second.result, CancelledError);
  await until(async () => (await client.exists(`bull:glide-images:${second.id}`)) === 0, "the waiting job's removal");
  running.abort();
  await assert.rejects(first.result, CancelledError);
  await until(() => executor.signals[0]!.aborted, "the worker to stop the running job");
  assert.equal(executor.signals.length, 1, "the removed job never ran");
  assert.deepEqual(outcomes, ["cancelled", "cancelled"]);
});

test("the worker stops a job at the time limit: a JobTimeoutError", async () => {
  const { queue, outcomes } = await setUp({ timeoutMs: 100 });
  const slow = await queue.submit(job({ steps: 10_000 }));
  await assert.rejects(slow.result, (e) => e instanceof JobTimeoutError && /time limit of 0.1 s/.test(e.message));
  assert.deepEqual(outcomes, ["timeout"]);
});

test("a late duplicate of a job's end is ignored; drain waits for the accepted jobs", async () => {
  const { queue, client, outcomes } = await setUp();
  const first = await queue.submit(job({ seed: 1 }));
  assert.equal((await first.result).seed, 1);
  // The same job "completing" again, as a worker that lost its lock would if BullMQ let it.
  const duplicate = { result: { images: [], lowRes: null, shape: [0], seed: 99, settings: {}, timings: {} } };
  await client.xadd(
    redisKeys.events,
    "*",
    "event",
    "completed",
    "jobId",
    first.id,
    "returnvalue",
    JSON.stringify(duplicate),
  );

  const second = await queue.submit(job({ seed: 2, steps: 20 }));
  let drained = false;
  const draining = queue.drain().then(() => {
    drained = true;
  });
  await assert.rejects(queue.submit(job()), QueueClosedError);
  assert.equal(drained, false, "a job is still running");
  assert.equal((await second.result).seed, 2);
  await draining;
  assert.deepEqual(outcomes, ["completed", "completed"], "the duplicate was not counted");
});

test("a drain with no live worker hands the waiting jobs back after its grace period", async () => {
  const { queue, worker, outcomes, url } = await setUp({ drainWithoutWorkersMs: 300 });
  await worker.close(); // the only worker leaves; its registration goes with it
  const waiting = await queue.submit(job({ seed: 3 }));
  const started = performance.now();
  await queue.drain();
  await assert.rejects(waiting.result, QueueClosedError);
  assert.ok(performance.now() - started >= 300, "it waited for a worker first");
  assert.deepEqual(outcomes, ["failed"]);
  // It left the queue: a worker that comes later is not given it.
  const late = new FakeExecutor();
  const lateWorker = await RedisQueueWorker.start({ url, executor: late, served: SERVED });
  await new Promise((r) => setTimeout(r, 500));
  await lateWorker.close();
  assert.equal(late.signals.length, 0, "the job was removed from Redis");
});
