// `glide serve` as a process: it prints its URL, serves the fixture model given by --checkpoint and
// --config, honours --api-key-file, --cors, --job-timeout and --request-timeout, and on SIGTERM stops taking jobs
// (503), finishes the running one, and exits 0.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { glide } from "../cli/glide-cli.ts";
import { fixtureFiles, tempDir } from "../pipelines/helpers.ts";
import { readMetric } from "./helpers.ts";

let child: ChildProcess;
let url = "";
let stdout = "";
const exited = new Promise<number | null>((resolve) => {
  before(async () => {
    const keys = join(tempDir(), "keys.txt");
    writeFileSync(keys, "sk-cli\n");
    const { checkpoint, config } = fixtureFiles("text2im");
    child = spawn(
      process.execPath,
      [
        "packages/app/bin/glide.js",
        "serve",
        "--port",
        "0",
        "--checkpoint",
        checkpoint,
        "--config",
        config,
        "--threads",
        "1",
        "--api-key-file",
        keys,
        "--cors",
        "https://app.example",
        "--job-timeout",
        "4",
        "--request-timeout",
        "2",
        "--max-connections",
        "64",
      ],
      { env: { ...process.env, GLIDE_API_KEYS: "" }, stdio: ["ignore", "pipe", "inherit"] },
    );
    child.on("exit", (code) => resolve(code));
    await new Promise<void>((ready, fail) => {
      child.stdout!.on("data", (data: Buffer) => {
        stdout += data.toString();
        url ||= /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] ?? "";
        if (/ready: /.test(stdout)) ready();
      });
      child.on("exit", () => fail(new Error(`glide serve exited early:\n${stdout}`)));
    });
  });
});
after(() => child.exitCode === null && child.kill("SIGKILL"));

const auth = { authorization: "Bearer sk-cli", "content-type": "application/json" };
const generate = (body: Record<string, unknown>, headers: Record<string, string> = auth) =>
  fetch(`${url}/v1/images/generations`, { method: "POST", headers, body: JSON.stringify(body) });

const metric = (name: string) => readMetric(url, name);

test("it prints the URL it listens on (loopback) and the model it serves, with health and metrics", async () => {
  assert.match(stdout, /ready: model 'text2im' \(generate 16, edit 16, variation 16\), 1 worker/);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  assert.match(await (await fetch(`${url}/metrics`)).text(), /^glide_queue_depth 0$/m);
  assert.equal((await generate({ prompt: "x" }, { "content-type": "application/json" })).status, 401);
  const warm = await generate({ prompt: "x", steps: 2, sampler: "ddim" });
  assert.equal(warm.status, 200);
});

test("--cors allows the origin given, and only it", async () => {
  const allowed = await fetch(`${url}/v1/models`, { headers: { ...auth, origin: "https://app.example" } });
  assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await fetch(`${url}/v1/models`, { headers: { ...auth, origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const preflight = await fetch(`${url}/v1/images/generations`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 204, "a preflight needs no key");
});

test("--request-timeout: a body that stalls is answered 408 and closed after it, not after the default 30 s", async () => {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const started = Date.now();
  socket.write(
    "POST /v1/images/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-cli\r\n" +
      'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"prompt":',
  );
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
  await new Promise((resolve) => socket.on("close", resolve));
  assert.match(text, /^HTTP\/1\.1 408 /);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds >= 1.5 && seconds < 10, `closed after ${seconds} s`);
});

test("--job-timeout stops a job that runs too long: 504", async () => {
  // Four images of 1,000 steps (the most a request may ask for): well past the 4 s limit even on an idle machine (one took ~4 s).
  const slow = await generate({ prompt: "x", steps: 1000, sampler: "ddim", n: 4 });
  assert.equal(slow.status, 504);
  assert.equal(((await slow.json()) as { error: { code: string } }).error.code, "job_timeout");
  assert.equal(await metric('glide_jobs_total{outcome="timeout"}'), 1);
});

test("SIGTERM: 503 for new requests, the running job finishes, then the process exits 0", async () => {
  const running = generate({ prompt: "x", steps: 100, sampler: "ddim" });
  while ((await metric("glide_jobs_running")) === 0) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 50));
  const refused = await generate({ prompt: "x", steps: 2 });
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "shutting_down");
  assert.equal((await fetch(`${url}/readyz`)).status, 503);
  const finished = await running;
  assert.equal(finished.status, 200);
  assert.equal(((await finished.json()) as { data: unknown[] }).data.length, 1);
  assert.equal(await exited, 0);
  assert.match(stdout, /SIGTERM: finishing the accepted jobs/);
  assert.match(stdout, /stopped\n$/);
});

test("--host 0.0.0.0 without --public-url: a note that url results name an address clients cannot open", async () => {
  const { checkpoint, config } = fixtureFiles("text2im");
  const wildcard = spawn(
    process.execPath,
    [
      "packages/app/bin/glide.js",
      "serve",
      "--host",
      "0.0.0.0",
      "--port",
      "0",
      "--checkpoint",
      checkpoint,
      "--config",
      config,
    ],
    { env: { ...process.env, GLIDE_API_KEYS: "" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  try {
    await new Promise<void>((resolve, reject) => {
      wildcard.stdout!.on("data", (data: Buffer) => {
        out += data.toString();
        if (/--public-url/.test(out)) resolve();
      });
      wildcard.on("exit", () => reject(new Error(`glide serve exited:\n${out}`)));
    });
  } finally {
    wildcard.kill("SIGKILL");
  }
  assert.match(out, /note: "url" results will point at http:\/\/0\.0\.0\.0:\d+, which clients cannot open/);
  // The loopback server of the other tests gets no such note.
  assert.doesNotMatch(stdout, /note: "url"/);
});

test("a model that cannot be loaded, or a bad flag: one line, exit 1, nothing left running", () => {
  const missing = glide("serve", "--port", "0", "--checkpoint", "/no/such/model.safetensors", "--preset", "tiny");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^glide: .*\/no\/such\/model\.safetensors/m);
  const badPort = glide("serve", "--port", "70000");
  assert.equal(badPort.code, 1);
  assert.match(badPort.stderr, /--port must be 0 to 65535/);
});
