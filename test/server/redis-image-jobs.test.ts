// Asynchronous jobs on the Redis queue, end to end: a real redis-server, `glide serve --queue` and two
// `glide worker` processes. A job's place in the queue is read from Redis, its progress comes back
// from its worker; a job cancelled while its worker runs it stops there; a worker SIGKILLed mid-job
// has its job run again by the other, and the job succeeds, completed once in Redis.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { type Glide, jobsOf, killAll, queueEvents, queueServer, queueWorker, until } from "./glide-processes.ts";
import { pngSize } from "./helpers.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

let redis: RedisServer;
let client: Redis;
let workers: Glide[];
let url = "";

before(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  let started: { url: string };
  [started, ...workers] = await Promise.all([queueServer(redis.url), queueWorker(redis.url), queueWorker(redis.url)]);
  url = started.url;
});
after(async () => {
  await killAll();
  client?.disconnect();
  await redis?.stop();
});

interface JobView {
  id: string;
  status: string;
  queue_position: number | null;
  progress: { stage: string; step: number; total: number | null } | null;
  data?: { b64_json: string; seed: number }[];
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; job: JobView }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, job: (await response.json()) as JobView };
}

const submit = async (body: Record<string, unknown>) => {
  const { status, job } = await call("POST", "/v1/images/jobs", body);
  assert.equal(status, 202);
  return job;
};
const poll = async (id: string) => (await call("GET", `/v1/images/jobs/${id}`)).job;

/** The worker whose log says it runs `jobId`. */
const runnerOf = (jobId: string) =>
  workers.find((w) => jobsOf(w).started.includes(jobId) && !jobsOf(w).ended.includes(jobId));

test("through Redis: position and progress; a cancelled job stops on its worker; a SIGKILLed worker's job completes once", async () => {
  await until(async () => (await fetch(`${url}/readyz`)).status === 200, "the server to be ready");
  const long = { prompt: "x", sampler: "ddim", steps: 300 };
  const [killedJob, cancelledJob] = [await submit({ ...long, seed: 31 }), await submit({ ...long, seed: 32 })];
  await until(() => workers.every((w) => jobsOf(w).started.length === 1), "both workers to run a job");
  const waiting = await submit({ prompt: "x", sampler: "ddim", steps: 5, seed: 33 });
  const behind = await submit({ prompt: "x", sampler: "ddim", steps: 5, seed: 34 });
  assert.deepEqual(
    [waiting.status, waiting.queue_position, behind.status, behind.queue_position],
    ["queued", 0, "queued", 1],
    "read from the queue in Redis",
  );
  assert.equal((await poll(waiting.id)).queue_position, 0);

  // Killed while it is surely mid-job: just started.
  const victim = runnerOf(killedJob.id)!;
  const canceller = runnerOf(cancelledJob.id)!;
  assert.notEqual(victim, canceller);
  victim.child.kill("SIGKILL");
  await victim.exited;

  let running: JobView | null = null;
  await until(async () => {
    running = await poll(cancelledJob.id);
    return running.status === "running" && (running.progress?.step ?? 0) > 0;
  }, "progress from the worker");
  assert.equal(running!.progress!.total, 300);

  const cancelled = await call("DELETE", `/v1/images/jobs/${cancelledJob.id}`);
  assert.equal(cancelled.job.status, "cancelled");
  await until(() => jobsOf(canceller).ended.includes(cancelledJob.id), "the worker to stop the cancelled job", 10_000);
  assert.match(canceller.stdout, new RegExp(`job ${cancelledJob.id} ended with CancelledError`));

  const ended = async (id: string) => {
    let job: JobView | null = null;
    await until(
      async () => {
        job = await poll(id);
        return job.status !== "queued" && job.status !== "running";
      },
      `job ${id} to end`,
      90_000,
    );
    return job!;
  };
  for (const [job, seed] of [
    [killedJob, 31],
    [waiting, 33],
    [behind, 34],
  ] as const) {
    const done = await ended(job.id);
    assert.equal(done.status, "succeeded");
    assert.equal(done.data![0]!.seed, seed);
    assert.deepEqual(await pngSize(done.data![0]!.b64_json), { width: 16, height: 16, format: "png" });
  }
  assert.equal((await poll(cancelledJob.id)).status, "cancelled");
  assert.match(canceller.stdout, new RegExp(`job ${killedJob.id} started \\(run 2`), "the survivor ran it again");

  const events = await queueEvents(client);
  const completions = (id: string) => events.filter((e) => e.event === "completed" && e.jobId === id);
  assert.equal(completions(killedJob.id).length, 1, "the killed worker's job completed once");
  assert.ok("result" in JSON.parse(completions(killedJob.id)[0]!.returnvalue!));
  assert.equal(completions(cancelledJob.id).length, 1);
  assert.equal(JSON.parse(completions(cancelledJob.id)[0]!.returnvalue!).error.name, "CancelledError");
});
