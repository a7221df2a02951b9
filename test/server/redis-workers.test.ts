// Scale-out end to end: a real redis-server, `glide serve --queue` and two `glide worker` processes
// (bin/glide.js, the fixture model). A streamed request gets progress and partial images through
// Redis; a worker SIGKILLed mid-job has its job taken by the other, and every job completes once,
// with an intact picture; SIGTERM lets a worker finish its job, and the server drain, before they exit.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import {
  queueEvents as eventsIn,
  type Glide,
  jobsOf,
  killAll,
  queueServer,
  queueWorker,
  until,
} from "./glide-processes.ts";
import { parseEvents, pngSize, readMetric } from "./helpers.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

let redis: RedisServer;
let client: Redis;
let server: Glide;
let workers: Glide[];
let url = "";

before(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  let started: { server: Glide; url: string };
  [started, ...workers] = await Promise.all([queueServer(redis.url), queueWorker(redis.url), queueWorker(redis.url)]);
  ({ server, url } = started);
});
after(async () => {
  await killAll();
  client?.disconnect();
  await redis?.stop();
});

const generate = (body: Record<string, unknown>) =>
  fetch(`${url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const metric = (name: string) => readMetric(url, name);
const queueEvents = () => eventsIn(client);

test("the server is ready with both workers, and names the workers' model", async () => {
  assert.match(server.stdout, /ready: model 'text2im' \(generate 16, edit 16, variation 16\), workers on redis:/);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  await until(async () => (await metric("glide_workers")) === 2, "both workers to be counted");
});

test("a streamed generation gets progress and partial images through Redis, then its image", async () => {
  const response = await generate({
    prompt: "a red heart",
    stream: true,
    partial_images: 2,
    sampler: "ddim",
    steps: 6,
    seed: 1,
  });
  assert.equal(response.status, 200);
  const events = parseEvents(await response.text());
  const steps = events.filter((e) => e.event === "glide.progress").map((e) => e.data.step);
  assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6]);
  const partials = events.filter((e) => e.event === "image_generation.partial_image");
  assert.equal(partials.length, 2);
  assert.deepEqual(await pngSize(partials[0]!.data.b64_json as string), { width: 16, height: 16, format: "png" });
  assert.equal(events.at(-1)!.event, "image_generation.completed");
  assert.deepEqual(await pngSize(events.at(-1)!.data.b64_json as string), { width: 16, height: 16, format: "png" });
});

test("a worker SIGKILLed mid-job: the other takes its job, and every job completes once with an intact image", async () => {
  const seeds = [11, 12, 13, 14];
  const responses = seeds.map((seed) => generate({ prompt: "x", sampler: "ddim", steps: 300, seed }));
  await until(
    () => workers.every((w) => jobsOf(w).started.length > jobsOf(w).ended.length),
    "both workers to run a job",
  );
  const [victim, survivor] = workers as [Glide, Glide];
  const killed = jobsOf(victim).started.at(-1)!;
  victim.child.kill("SIGKILL");
  assert.equal(await victim.exited, null);

  const bodies = await Promise.all(
    responses.map(async (pending) => {
      const response = await pending;
      assert.equal(response.status, 200);
      return (await response.json()) as { data: { b64_json: string }[]; glide: { seed: number } };
    }),
  );
  assert.deepEqual(
    bodies.map((b) => b.glide.seed),
    seeds,
    "each request got its own job's answer",
  );
  for (const body of bodies) {
    assert.equal(body.data.length, 1);
    assert.deepEqual(await pngSize(body.data[0]!.b64_json), { width: 16, height: 16, format: "png" });
  }
  assert.match(survivor.stdout, new RegExp(`job ${killed} started \\(run 2`), "the survivor ran the killed job again");

  const events = await queueEvents();
  const jobIds = new Set([...jobsOf(victim).started, ...jobsOf(survivor).started]);
  for (const id of jobIds) {
    const completions = events.filter((e) => e.event === "completed" && e.jobId === id);
    assert.equal(completions.length, 1, `job ${id} completed once`);
    assert.ok("result" in JSON.parse(completions[0]!.returnvalue!), `job ${id} completed with a result`);
  }
  assert.ok(
    events.some((e) => e.event === "stalled" && e.jobId === killed),
    "BullMQ found the killed job stalled",
  );
  assert.equal(await metric('glide_jobs_total{outcome="completed"}'), 1 + seeds.length);
  assert.equal(await metric('glide_jobs_total{outcome="failed"}'), 0);
  await until(async () => (await metric("glide_workers")) === 1, "the killed worker to drop out");
  assert.equal((await fetch(`${url}/readyz`)).status, 200, "one worker is enough to be ready");
});

test("SIGTERM: a worker finishes its job, then exits; the server drains, then exits", async () => {
  const survivor = workers[1]!;
  const before = jobsOf(survivor).started.length;
  const response = generate({ prompt: "x", sampler: "ddim", steps: 300, seed: 21 });
  await until(() => jobsOf(survivor).started.length > before, "the job to start");
  survivor.child.kill("SIGTERM");
  assert.equal((await response).status, 200);
  assert.equal(await survivor.exited, 0);
  assert.match(survivor.stdout, /SIGTERM: finishing the running job\(s\), then exiting[\s\S]*done in[\s\S]*stopped\n$/);
  await until(async () => (await fetch(`${url}/readyz`)).status === 503, "no worker left: not ready");
  assert.equal(((await (await fetch(`${url}/readyz`)).json()) as { status: string }).status, "no_workers");

  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0);
  assert.match(server.stdout, /stopped\n$/);
});
