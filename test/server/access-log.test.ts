// `glide serve`'s log, read from a real server process: one line per request (method, route pattern,
// status, ms, job id) and one per job event (queued, started, finished, seconds), as JSON or text;
// the prompt only with --log-prompts.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { test } from "node:test";
import { fixtureFiles } from "../pipelines/helpers.ts";

interface Served {
  url: string;
  /** Stops the server and returns what it wrote on stdout. */
  stop(): Promise<string>;
}

async function serve(...flags: string[]): Promise<Served> {
  const { checkpoint, config } = fixtureFiles("text2im");
  const args = [
    "packages/app/bin/glide.js",
    "serve",
    "--port",
    "0",
    "--checkpoint",
    checkpoint,
    "--config",
    config,
    ...flags,
  ];
  const child: ChildProcess = spawn(process.execPath, [...args, "--threads", "1"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = await new Promise<string>((ready, fail) => {
    child.stdout!.on("data", (data: Buffer) => {
      stdout += data.toString();
      const address = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      if (address && /ready: /.test(stdout)) ready(address);
    });
    child.on("exit", () => fail(new Error(`glide serve exited early:\n${stdout}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      return stdout;
    },
  };
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const SECRET = "a very private prompt";

test("--log-format json: a line per request and per job event, with routes, statuses, job ids, no prompt", async () => {
  const server = await serve("--log-format", "json");
  let stdout = "";
  let id = "";
  try {
    const made = await post(`${server.url}/v1/images/generations`, { prompt: SECRET, steps: 2, sampler: "ddim" });
    assert.equal(made.status, 200);
    await made.json();
    const accepted = await post(`${server.url}/v1/images/jobs`, { prompt: SECRET, steps: 2, sampler: "ddim" });
    assert.equal(accepted.status, 202);
    id = ((await accepted.json()) as { id: string }).id;
    for (let status = ""; status !== "succeeded"; ) {
      await new Promise((r) => setTimeout(r, 50));
      status = ((await (await fetch(`${server.url}/v1/images/jobs/${id}`)).json()) as { status: string }).status;
      assert.notEqual(status, "failed");
    }
    assert.equal((await post(`${server.url}/v1/images/generations`, { prompt: "" })).status, 400);
    assert.equal((await fetch(`${server.url}/nowhere/${SECRET}`)).status, 404);
  } finally {
    stdout = await server.stop();
  }
  assert.ok(!stdout.includes("private"), "no prompt in the log");
  const lines = stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>); // every line is JSON
  assert.ok(lines.some((l) => l.type === "server" && /^ready: /.test(String(l.message))));
  const requests = lines.filter((l) => l.type === "request");
  const jobs = lines.filter((l) => l.type === "job");
  const routes = requests.map((r) => `${r.method} ${r.route} ${r.status}`);
  assert.ok(routes.includes("POST /v1/images/generations 200"), routes.join("; "));
  assert.ok(routes.includes("POST /v1/images/jobs 202"));
  assert.ok(routes.includes("GET /v1/images/jobs/:id 200"), "the route's pattern, not its URL");
  assert.ok(routes.includes("POST /v1/images/generations 400"));
  assert.ok(routes.includes("GET (no route) 404"));
  for (const r of requests) assert.ok(typeof r.ms === "number" && r.ms >= 0, JSON.stringify(r));

  const syncRequest = requests.find((r) => r.route === "/v1/images/generations" && r.status === 200)!;
  const syncJob = String(syncRequest.job);
  assert.ok(syncJob.length > 0, "the synchronous request names its job");
  assert.equal(requests.find((r) => r.status === 202)!.job, id);
  assert.ok(requests.filter((r) => r.route === "/v1/images/jobs/:id").every((r) => r.job === id));
  assert.equal(requests.find((r) => r.status === 400)!.job, undefined, "a refused request made no job");

  for (const job of [syncJob, id]) {
    const events = jobs.filter((l) => l.job === job);
    assert.deepEqual(
      events.map((e) => e.event),
      ["queued", "started", "finished"],
      JSON.stringify(events),
    );
    assert.ok(events.every((e) => e.kind === "generate"));
    const [, started, finished] = events;
    assert.ok(typeof started!.seconds === "number" && typeof finished!.seconds === "number");
    assert.ok((finished!.seconds as number) >= (started!.seconds as number));
  }
  assert.equal(jobs.length, 6, "two jobs, three lines each");
});

test("--log-format text with --log-prompts: the same lines as text, the prompt in the queued line", async () => {
  const server = await serve("--log-prompts");
  let stdout = "";
  try {
    const made = await post(`${server.url}/v1/images/generations`, { prompt: SECRET, steps: 2, sampler: "ddim" });
    assert.equal(made.status, 200);
    await made.json();
  } finally {
    stdout = await server.stop();
  }
  const request = /^request POST \/v1\/images\/generations 200 [\d.]+ms job=(\S+)$/m.exec(stdout);
  assert.ok(request, stdout);
  const job = request[1]!;
  assert.match(stdout, new RegExp(`^job ${job} queued generate prompt="${SECRET}"$`, "m"));
  assert.match(stdout, new RegExp(`^job ${job} started generate after [\\d.]+s queued$`, "m"));
  assert.match(stdout, new RegExp(`^job ${job} finished generate [\\d.]+s$`, "m"));
});
