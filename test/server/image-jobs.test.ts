// Asynchronous jobs (POST /v1/images/jobs…) on a real server with the fixture model: a job waits
// with its place in the queue, runs with progress and previews, and succeeds with its images and
// seed; a waiting and a running job are cancelled; a job is seen only by its key; bad bodies are
// refused as the synchronous routes refuse them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { fixtureServer, pngBytes, pngSize, readMetric } from "./helpers.ts";

const KEY_A = "sk-jobs-a";
const KEY_B = "sk-jobs-b";
let server: GlideServer;

before(async () => {
  server = await fixtureServer({ apiKeys: [KEY_A, KEY_B], queueSize: 4 });
});
after(() => server.shutdown());

interface JobView {
  id: string;
  object: string;
  kind: string;
  status: string;
  created: number;
  queue_position: number | null;
  progress: { stage: string; step: number; total: number | null; eta_seconds: number | null } | null;
  preview?: { stage: string; step: number; data: { b64_json: string }[] };
  data?: { b64_json: string; seed: number }[];
  glide?: { seed: number };
  error?: { message: string; type: string; param: string | null; code: string | null };
}

async function call(method: string, path: string, key: string | null, body?: unknown) {
  const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
  let payload: string | FormData | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, body: payload });
  return { status: response.status, body: (await response.json()) as JobView };
}

const submit = (body: Record<string, unknown>, key = KEY_A) => call("POST", "/v1/images/jobs", key, body);
const poll = (id: string, key: string | null = KEY_A, query = "") => call("GET", `/v1/images/jobs/${id}${query}`, key);

const list = async (key: string, query = "") =>
  ((await call("GET", `/v1/images/jobs${query}`, key)).body as unknown as { data: JobView[] }).data;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a job waits with its place in the queue, runs with progress and previews, then has its images and seed; waiting and running jobs are cancelled", async () => {
  const long = await submit({ prompt: "a long job", sampler: "ddim", steps: 1000, seed: 1 });
  assert.equal(long.status, 202);
  assert.equal(long.body.object, "image.job");
  await until(
    () => poll(long.body.id),
    (r) => r.body.status === "running",
    "the long job to run",
  );

  const queued = await submit({ prompt: "a red heart", n: 2, sampler: "ddim", steps: 40, seed: 7 });
  assert.equal(queued.status, 202);
  assert.deepEqual([queued.body.status, queued.body.queue_position], ["queued", 0]);
  assert.equal(typeof queued.body.created, "number");
  const third = await submit({ prompt: "a third job", steps: 5 });
  assert.deepEqual([third.body.status, third.body.queue_position], ["queued", 1]);

  const cancelledWaiting = await call("DELETE", `/v1/images/jobs/${third.body.id}`, KEY_A);
  assert.equal(cancelledWaiting.status, 200);
  assert.equal(cancelledWaiting.body.status, "cancelled");
  assert.equal((await poll(third.body.id)).body.status, "cancelled");
  assert.equal((await call("DELETE", `/v1/images/jobs/${third.body.id}`, KEY_A)).status, 409);

  const cancelledRunning = await call("DELETE", `/v1/images/jobs/${long.body.id}`, KEY_A);
  assert.equal(cancelledRunning.body.status, "cancelled");
  // The running job stopped at its next step: its worker ended it cancelled, and took the next job.
  await until(
    () => readMetric(server.url, 'glide_jobs_total{outcome="cancelled"}'),
    (n) => n === 2,
    "both cancels to reach the queue",
  );

  const seen: JobView[] = [];
  const done = await until(
    async () => {
      const { body } = await poll(queued.body.id, KEY_A, "?preview=true");
      seen.push(body);
      return body;
    },
    (job) => job.status !== "queued" && job.status !== "running",
    "the job to end",
  );
  const running = seen.filter((job) => job.status === "running" && job.progress?.total === 40);
  assert.ok(running.length > 0, "the job was seen running");
  const withPreview = running.find((job) => job.preview !== undefined)!;
  assert.ok(withPreview, "a running job has a preview when asked");
  assert.equal(withPreview.preview!.data.length, 2);
  assert.deepEqual(await pngSize(withPreview.preview!.data[0]!.b64_json), { width: 16, height: 16, format: "png" });
  const steps = running.map((job) => job.progress!.step);
  assert.ok(Math.max(...steps) > Math.min(...steps), `progress moved: ${steps}`);
  assert.ok(running.every((job) => job.progress!.stage === "base" && job.queue_position === null));

  assert.equal(done.status, "succeeded");
  assert.equal(done.progress, null);
  assert.equal(done.data!.length, 2);
  assert.deepEqual(
    done.data!.map((image) => image.seed),
    [7, 8],
    "image i of seed 7 has seed 7 + i",
  );
  for (const image of done.data!) {
    assert.deepEqual(await pngSize(image.b64_json), { width: 16, height: 16, format: "png" });
  }
  assert.equal(done.glide!.seed, 7);
  assert.equal((await readMetric(server.url, 'glide_jobs_total{outcome="completed"}')) >= 1, true);
});

test("a job is seen and cancelled only with the key that made it; an unknown id is 404", async () => {
  const form = new FormData();
  form.append("image", new Blob([new Uint8Array(await pngBytes(16, 16))], { type: "image/png" }), "in.png");
  form.append("steps", "4");
  form.append("response_format", "b64_json");
  const variation = await call("POST", "/v1/images/jobs/variations", KEY_A, form);
  assert.equal(variation.status, 202);
  assert.equal(variation.body.kind, "variation");
  const { id } = variation.body;

  for (const [method, path] of [
    ["GET", `/v1/images/jobs/${id}`],
    ["DELETE", `/v1/images/jobs/${id}`],
    ["GET", "/v1/images/jobs/no-such-job"],
    ["DELETE", "/v1/images/jobs/no-such-job"],
  ] as const) {
    const { status, body } = await call(method, path, KEY_B);
    assert.equal(status, 404, `${method} ${path}`);
    assert.equal(body.error!.code, "job_not_found");
    assert.equal(body.error!.type, "invalid_request_error");
  }
  assert.equal((await poll(id, "sk-not-a-key")).status, 401);
  assert.equal((await poll(id, null)).status, 401);
  assert.equal((await call("DELETE", `/v1/images/jobs/${id}`, null)).status, 401);
  assert.deepEqual(await list(KEY_B), []);

  const done = await until(
    () => poll(id),
    (r) => r.body.status !== "queued" && r.body.status !== "running",
    "the variation to end",
  );
  assert.equal(done.body.status, "succeeded", "B's cancel did not touch it");
  assert.deepEqual(await pngSize(done.body.data![0]!.b64_json), { width: 16, height: 16, format: "png" });
  const listA = await list(KEY_A, "?limit=2");
  assert.equal(listA.length, 2);
  assert.equal(listA[0]!.id, id, "newest first");
  assert.equal(listA[0]!.data, undefined, "lists leave the images out");
});

test("a bad body is refused as the synchronous route refuses it: 400 naming the field", async () => {
  const bad = { prompt: "x", n: 99 };
  const asJob = await submit(bad);
  const direct = await call("POST", "/v1/images/generations", KEY_A, bad);
  assert.equal(asJob.status, 400);
  assert.equal(asJob.body.error!.param, "n");
  assert.deepEqual(asJob.body, direct.body);

  const form = new FormData();
  form.append("prompt", "no picture");
  const edit = await call("POST", "/v1/images/jobs/edits", KEY_A, form);
  assert.equal(edit.status, 400);
  assert.equal(edit.body.error!.param, "image");

  const streamed = await submit({ prompt: "x", stream: true });
  assert.equal(streamed.status, 400);
  assert.equal(streamed.body.error!.param, "stream");
  assert.equal((await call("GET", "/v1/images/jobs?limit=0", KEY_A)).body.error!.param, "limit");
});
