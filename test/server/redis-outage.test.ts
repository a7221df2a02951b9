// When Redis fails the server still answers every request: `glide serve --queue` (a real server on
// 127.0.0.1) with a worker in this process and a real redis-server that is killed mid-job and started
// again without persistence (the jobs are gone): each request is answered within its deadline, with
// its image or a 503 in OpenAI's error shape with Retry-After; /readyz is 503 while Redis is down, a
// request then is refused at once, and the log says so in one line each way. The queue alone: jobs
// are answered when Redis stays away past the grace period, and at the server's deadline when a
// worker holds a job and never ends it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ImageJob } from "../../packages/app/src/server/image-job.ts";
import {
  type JobExecutor,
  QueueUnavailableError,
  type SubmitOptions,
} from "../../packages/app/src/server/queue/job-queue.ts";
import { RedisJobQueue } from "../../packages/app/src/server/queue/redis-queue.ts";
import { RedisQueueWorker } from "../../packages/app/src/server/queue/redis-worker.ts";
import { type GlideServer, startServer } from "../../packages/app/src/server/server.ts";
import { CancelledError } from "../../packages/glide-ts/src/errors.ts";
import type { RgbImage } from "../../packages/glide-ts/src/image/pixels.ts";
import type { PipelineResult } from "../../packages/glide-ts/src/pipelines/types.ts";
import { FAKE_SERVED as SERVED, FAKE_SIDE as SIDE } from "./helpers.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

/** Each job takes `steps` × 50 ms (stopping when aborted); `hang`: jobs never end unless released. */
class SlowExecutor implements JobExecutor<ImageJob> {
  readonly slots = 1;
  started = 0;
  private releases: (() => void)[] = [];
  constructor(private readonly hang = false) {}

  run(_slot: number, job: ImageJob, options: SubmitOptions & { signal: AbortSignal }): Promise<PipelineResult> {
    this.started++;
    if (this.hang) return new Promise((_, reject) => this.releases.push(() => reject(new CancelledError("released"))));
    return new Promise((resolve, reject) => {
      let step = 0;
      const tick = () => {
        if (options.signal.aborted) return reject(new CancelledError("the job was cancelled"));
        if (step++ === Number(job.steps ?? 10)) return resolve(result(job.seed ?? 0));
        setTimeout(tick, 50);
      };
      tick();
    });
  }

  release(): void {
    for (const release of this.releases.splice(0)) release();
  }
}

function result(seed: number): PipelineResult {
  const image: RgbImage = { width: SIDE, height: SIDE, channels: 3, data: new Uint8Array(SIDE * SIDE * 3).fill(seed) };
  return {
    images: [image],
    samples: new Float32Array(3 * SIDE * SIDE),
    shape: [1, 3, SIDE, SIDE],
    lowRes: null,
    seed,
    seeds: [seed],
    settings: { prompt: "x", seed, batchSize: 1, base: null, upsample: null },
    timings: { base: { setup: 0, sampling: 0.1, steps: 1 }, upsample: null, totalSeconds: 0.1 },
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Closed last to first: queues and workers before the redis-servers they use. */
const closers: (() => Promise<unknown>)[] = [];
const redisServers: RedisServer[] = [];
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const redis of redisServers) await redis.stop();
});

async function redisServer(port?: number): Promise<RedisServer> {
  const redis = await startRedisServer(port);
  redisServers.push(redis);
  return redis;
}

const DEADLINE_S = 20;
let redis: RedisServer;
let server: GlideServer;
let executor: SlowExecutor;
const serverLog: string[] = [];
const workerLog: string[] = [];

before(async () => {
  redis = await redisServer();
  server = await startServer({
    queue: redis.url,
    port: 0,
    deadlineSeconds: DEADLINE_S,
    log: (message) => serverLog.push(message),
  });
  closers.push(() => server.shutdown());
  executor = new SlowExecutor();
  const worker = await RedisQueueWorker.start({
    url: redis.url,
    executor,
    served: SERVED,
    lockDurationMs: 2000,
    log: (message) => workerLog.push(message),
  });
  closers.push(() => worker.close());
  await server.ready;
});

/** A generation; resolves with its status, body, Retry-After and seconds to the answer. */
async function generate(seed: number) {
  const started = performance.now();
  const response = await fetch(`${server.url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "x", seed, steps: 10 }),
  });
  const body = (await response.json()) as { data?: unknown[]; error?: Record<string, unknown> };
  const seconds = (performance.now() - started) / 1000;
  return { status: response.status, body, retryAfter: response.headers.get("retry-after"), seconds };
}

const readyz = async () => {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string } };
};

/** A 503 that tells the client to come back: OpenAI's error shape, the code, Retry-After. */
function assertRetryable(answer: Awaited<ReturnType<typeof generate>>, codes: string[]): void {
  assert.equal(answer.status, 503, JSON.stringify(answer.body));
  assert.deepEqual(Object.keys(answer.body.error ?? {}).sort(), ["code", "message", "param", "type"]);
  assert.equal(answer.body.error!.type, "server_error");
  assert.ok(codes.includes(answer.body.error!.code as string), `code ${answer.body.error!.code}`);
  assert.ok(Number(answer.retryAfter) >= 1, `Retry-After: ${answer.retryAfter}`);
}

test("Redis killed mid-job and started again empty: every request is answered within its deadline", {
  timeout: 60_000,
}, async () => {
  assert.equal((await generate(1)).status, 200);
  assert.deepEqual(await readyz(), { status: 200, body: { status: "ready" } });

  const started = executor.started;
  const pending = [2, 3, 4, 5, 6].map((seed) => generate(seed));
  await until(() => executor.started > started, "a job to run");
  await redis.stop(); // SIGKILL: no save, no goodbye

  await until(async () => (await readyz()).status === 503, "/readyz to say the queue is unreachable", 5000);
  assert.deepEqual(await readyz(), { status: 503, body: { status: "queue_unreachable" } });
  const refused = await generate(7);
  assertRetryable(refused, ["queue_unavailable"]);
  assert.ok(refused.seconds < 2, `refused at once, not after ${refused.seconds} s`);

  await new Promise((r) => setTimeout(r, 1500)); // down for a while: ioredis retries meanwhile
  redis = await redisServer(redis.port); // the same address, nothing in it

  const answers = await Promise.all(pending);
  for (const answer of answers) {
    assert.ok(answer.seconds < DEADLINE_S, `answered after ${answer.seconds} s`);
    if (answer.status !== 200) assertRetryable(answer, ["job_lost", "queue_unavailable"]);
  }
  assert.ok(
    answers.some((a) => a.body.error?.code === "job_lost"),
    "the jobs Redis forgot are answered as lost",
  );

  // The worker registers again, and the queue works as before.
  await until(async () => (await readyz()).status === 200, "/readyz to be ready again");
  assert.equal((await generate(8)).status, 200);

  const drops = serverLog.filter((line) => /lost the connection/.test(line));
  const backs = serverLog.filter((line) => /connected to .* again/.test(line));
  assert.equal(drops.length, 1, serverLog.join("\n"));
  assert.equal(backs.length, 1, serverLog.join("\n"));
  assert.ok(!serverLog.some((line) => /ECONNREFUSED|ECONNRESET/.test(line)), serverLog.join("\n"));
  assert.ok(serverLog.length <= 4, `the server's log is quiet:\n${serverLog.join("\n")}`);
  assert.ok(!workerLog.some((line) => /ECONNREFUSED|ECONNRESET/.test(line)), workerLog.join("\n"));
  assert.equal(workerLog.filter((line) => /lost the connection/.test(line)).length, 1, workerLog.join("\n"));
});

test("Redis away past the grace period: the waiting jobs are answered (503), not left hanging", {
  timeout: 60_000,
}, async () => {
  const lonely = await redisServer();
  const queue = await RedisJobQueue.connect({ url: lonely.url, capacity: 4, unreachableGraceMs: 500 });
  closers.push(() => queue.close());
  const ticket = await queue.submit({ kind: "generate", prompt: "x", n: 1, upsample: false, previewEvery: 0 });
  await lonely.stop();
  const started = performance.now();
  await assert.rejects(ticket.result, (e) => e instanceof QueueUnavailableError && e.code === "queue_unavailable");
  assert.ok(performance.now() - started < 3000, "answered after the grace period");
  assert.equal(queue.reachable(), false);
  await assert.rejects(
    queue.submit({ kind: "generate", prompt: "x", n: 1, upsample: false, previewEvery: 0 }),
    QueueUnavailableError,
  );
});

test("a worker that holds a job and never ends it: the server's deadline answers it", { timeout: 60_000 }, async () => {
  const own = await redisServer();
  const queue = await RedisJobQueue.connect({ url: own.url, capacity: 4, timeoutMs: 60_000, deadlineMs: 1500 });
  const stuck = new SlowExecutor(true);
  const worker = await RedisQueueWorker.start({ url: own.url, executor: stuck, served: SERVED });
  closers.push(async () => {
    stuck.release();
    await worker.close();
    await queue.close();
  });
  const started = performance.now();
  const ticket = await queue.submit({ kind: "generate", prompt: "x", n: 1, upsample: false, previewEvery: 0 });
  await until(() => stuck.started === 1, "the job to run");
  await assert.rejects(ticket.result, (e) => e instanceof QueueUnavailableError && e.code === "deadline_exceeded");
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds >= 1.4 && seconds < 5, `answered at the deadline, after ${seconds} s`);
});
