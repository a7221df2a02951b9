// `stream: true` read with a plain HTTP client: progress, partial images and the final image as
// Server-Sent Events; a client that goes away cancels its job; a full queue answers 429.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { fixtureServer, parseEvents, pngBytes, pngSize, readMetric } from "./helpers.ts";

let server: GlideServer;
before(async () => {
  server = await fixtureServer({ queueSize: 1 });
});
after(() => server.shutdown());

const post = (path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });

const metric = (name: string) => readMetric(server.url, name);

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a generation streams progress with ETA, partial images of x₀, then the completed images", async () => {
  const response = await post("/v1/images/generations", {
    prompt: "a red heart",
    n: 2,
    stream: true,
    partial_images: 2,
    sampler: "ddim",
    steps: 6,
    seed: 1,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
  const events = parseEvents(await response.text());
  const progress = events.filter((e) => e.event === "glide.progress").map((e) => e.data);
  assert.deepEqual(
    progress.map((p) => p.step),
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.ok(progress.every((p) => p.total === 6 && p.stage === "base"));
  assert.equal(progress[0]!.eta_seconds, null);
  assert.ok(typeof progress[3]!.eta_seconds === "number");

  const partials = events.filter((e) => e.event === "image_generation.partial_image").map((e) => e.data);
  assert.deepEqual(
    partials.map((p) => [p.partial_image_index, p.image_index]),
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ],
    "two previews, each of both images",
  );
  assert.ok(partials.every((p) => p.type === "image_generation.partial_image" && p.output_format === "png"));
  assert.deepEqual(await pngSize(partials[0]!.b64_json as string), { width: 16, height: 16, format: "png" });

  const completed = events.filter((e) => e.event === "image_generation.completed").map((e) => e.data);
  assert.equal(completed.length, 2);
  assert.deepEqual(
    events.slice(-2).map((e) => e.event),
    ["image_generation.completed", "image_generation.completed"],
  );
  assert.equal(completed[0]!.size, "16x16");
  assert.ok("usage" in completed[0]!);
  assert.deepEqual(await pngSize(completed[1]!.b64_json as string), { width: 16, height: 16, format: "png" });
});

test("an edit streams image_edit events; a body the pipeline refuses is a 400 before any stream", async () => {
  const form = new FormData();
  form.append(
    "image",
    new Blob([new Uint8Array(await pngBytes(16, 16, (x) => x < 8))], { type: "image/png" }),
    "a.png",
  );
  form.append("prompt", "a cat");
  form.append("stream", "true");
  form.append("steps", "3");
  form.append("sampler", "ddim");
  const edited = parseEvents(
    await (await fetch(`${server.url}/v1/images/edits`, { method: "POST", body: form })).text(),
  );
  assert.ok(edited.some((e) => e.event === "image_edit.partial_image"));
  assert.equal(edited.at(-1)!.event, "image_edit.completed");

  const failing = await post("/v1/images/generations", { prompt: "x", stream: true, sampler: "ddim", steps: "ddim0" });
  assert.equal(failing.status, 400);
  assert.match(failing.headers.get("content-type") ?? "", /^application\/json/);
  const { error } = (await failing.json()) as { error: { param: string; message: string } };
  assert.equal(error.param, "steps");
  assert.match(error.message, /bad steps 'ddim0'/);
});

test("a client that disconnects cancels its job, streaming or not; a full queue gets 429 with Retry-After", async () => {
  const long = { prompt: "x", sampler: "ddim", steps: 1000, seed: 1 };
  const cancelledBefore = await metric('glide_jobs_total{outcome="cancelled"}');

  const streaming = new AbortController();
  const response = await post("/v1/images/generations", { ...long, stream: true }, streaming.signal);
  const reader = response.body!.getReader();
  await reader.read(); // the first event: the job runs
  const waiting = new AbortController();
  const queued = post("/v1/images/generations", long, waiting.signal).catch((e: Error) => e);
  await until(async () => (await metric("glide_queue_depth")) === 1, "the second job to wait");

  const full = await post("/v1/images/generations", long);
  assert.equal(full.status, 429);
  assert.ok(Number(full.headers.get("retry-after")) >= 1);
  const body = (await full.json()) as { error: Record<string, unknown> };
  assert.equal(body.error.type, "rate_limit_error");
  assert.equal(body.error.code, "queue_full");

  waiting.abort();
  streaming.abort();
  assert.equal(((await queued) as Error).name, "AbortError");
  await until(
    async () => (await metric('glide_jobs_total{outcome="cancelled"}')) === cancelledBefore + 2,
    "both jobs to be cancelled",
  );
  assert.equal(await metric("glide_jobs_running"), 0);
  // The worker is free again.
  const ok = await post("/v1/images/generations", { prompt: "x", steps: 2, sampler: "ddim" });
  assert.equal(ok.status, 200);
  assert.ok((await metric("glide_sampling_steps_total")) > 0);
});
