// `glide serve --device`: an unusable device is one line before the server listens; on WebGPU
// (SwiftShader, the software Vulkan driver of Debian's chromium) the workers run the jobs there and
// keep their sessions: a second identical request spends a fraction of the first's time outside sampling.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { after, test } from "node:test";
import { fixtureFiles } from "../pipelines/helpers.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
const { checkpoint, config } = fixtureFiles("text2im");
const serveArgs = ["packages/app/bin/glide.js", "serve", "--port", "0", "--checkpoint", checkpoint, "--config", config];
const serveArgsNoUpsampler = [...serveArgs, "--threads", "1", "--no-upsample"];

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GLIDE_DEBUG: "", GLIDE_API_KEYS: "" };
  delete env.VK_ICD_FILENAMES;
  delete env.VK_DRIVER_FILES;
  return { ...env, ...extra };
}

test("glide serve --device cuda without the CUDA provider: one line, exit 1, never listening", () => {
  const run = spawnSync(process.execPath, [...serveArgsNoUpsampler, "--device", "cuda"], {
    encoding: "utf-8",
    env: cleanEnv(),
  });
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /^glide: device cuda: .*--onnxruntime-node-install=cuda12/);
  assert.doesNotMatch(run.stdout, /listening/);
});

let child: ChildProcess | null = null;
after(() => child?.exitCode === null && child.kill("SIGKILL"));

/** A metric's value from /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)![1]);
}

/** Seconds the jobs so far spent outside sampling loops: compiling sessions, encoding, decoding. */
async function setupSeconds(url: string): Promise<number> {
  return (await metric(url, "glide_job_seconds_total")) - (await metric(url, "glide_sampling_seconds_total"));
}

test("glide serve --device webgpu: says so when ready and in /v1/models, answers on the GPU, keeps its sessions", async () => {
  child = spawn(process.execPath, [...serveArgsNoUpsampler, "--device", "webgpu"], {
    env: cleanEnv({ VK_ICD_FILENAMES: SWIFTSHADER }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
  await new Promise<void>((ready, fail) => {
    child!.stdout!.on("data", (data: Buffer) => {
      stdout += data.toString();
      if (/ready: /.test(stdout)) ready();
    });
    child!.on("exit", () => fail(new Error(`glide serve exited early:\n${stdout}\n${stderr}`)));
  });
  assert.match(stdout, /ready: model 'text2im' \(generate 16, .*\), 1 worker\(s\), on webgpu\n/);
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { device: string }[] };
  assert.equal(models.data[0]!.device, "webgpu");

  const generate = () =>
    fetch(`${url}/v1/images/generations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a red heart", steps: 1, sampler: "ddim", seed: 3 }),
    });
  const first = await generate();
  assert.equal(first.status, 200, await first.clone().text());
  const image = ((await first.json()) as { data: { b64_json: string }[] }).data[0]!.b64_json;
  assert.ok(Buffer.from(image, "base64").subarray(1, 4).toString() === "PNG", "a PNG");
  const firstSetup = await setupSeconds(url);
  const second = await generate();
  assert.equal(second.status, 200);
  const secondSetup = (await setupSeconds(url)) - firstSetup;
  // The first job compiled the sessions and uploaded the weights; the second only encodes its prompt.
  assert.ok(secondSetup < firstSetup / 3, `setup ${firstSetup} s, then ${secondSetup} s`);
  console.log(`setup outside sampling: first job ${firstSetup} s, second ${secondSetup} s`);
  child.kill("SIGTERM");
});

test("glide worker --device cuda: the same one line before it joins the queue; serve --queue leaves --device to the workers", () => {
  const worker = spawnSync(
    process.execPath,
    [
      "packages/app/bin/glide.js",
      "worker",
      "--queue",
      "redis://127.0.0.1:1",
      "--checkpoint",
      checkpoint,
      "--config",
      config,
    ],
    { encoding: "utf-8", env: cleanEnv() },
  );
  // Without --device the worker would go on to Redis (nothing listens on port 1) and fail there instead.
  assert.doesNotMatch(worker.stderr, /device/);
  const cuda = spawnSync(
    process.execPath,
    [
      "packages/app/bin/glide.js",
      "worker",
      "--queue",
      "redis://127.0.0.1:1",
      "--device",
      "cuda",
      "--checkpoint",
      checkpoint,
    ],
    { encoding: "utf-8", env: cleanEnv() },
  );
  assert.equal(cuda.status, 1);
  assert.equal(cuda.stderr.trim().split("\n").length, 1, cuda.stderr);
  assert.match(cuda.stderr, /^glide: device cuda: .*--onnxruntime-node-install=cuda12/);
  const queued = spawnSync(process.execPath, [...serveArgs, "--queue", "redis://127.0.0.1:1", "--device", "webgpu"], {
    encoding: "utf-8",
    env: cleanEnv(),
  });
  assert.equal(queued.status, 1);
  assert.match(queued.stderr, /^glide: --device is the workers' with --queue: give it to glide worker\n$/);
});
