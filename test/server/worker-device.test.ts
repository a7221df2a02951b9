// `glide worker --device webgpu` on a Redis queue (issue #21): a real redis-server, `glide serve --queue`
// (no device of its own) and a worker on WebGPU (SwiftShader, the software Vulkan driver of Debian's
// chromium) that says so when ready and through the server's /v1/models, and answers a generation
// with the picture a CPU worker makes of the same request.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { fixtureFiles } from "../pipelines/helpers.ts";
import { type Glide, glide, killAll, queueServer } from "./glide-processes.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";

let redis: RedisServer;
let server: Glide;
let url = "";

/** `glide worker` on the fixture model, one slot, without the upsampler, on `device`. */
function deviceWorker(device: "cpu" | "webgpu"): Promise<Glide> {
  const { checkpoint, config } = fixtureFiles("text2im");
  const args = ["worker", "--queue", redis.url, "--checkpoint", checkpoint, "--config", config];
  return glide(
    [...args, "--no-upsample", "--threads", "1", "--device", device],
    /ready: /,
    device === "webgpu" ? { VK_ICD_FILENAMES: SWIFTSHADER } : {},
  );
}

before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await killAll();
  await redis?.stop();
});

/** The one picture of a small generation, as raw RGBA bytes. */
async function generatePixels(seed = 3): Promise<Buffer> {
  const response = await fetch(`${url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "a red heart", n: 1, steps: 3, sampler: "ddim", seed }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const { data } = (await response.json()) as { data: { b64_json: string }[] };
  assert.equal(data.length, 1);
  const png = Buffer.from(data[0]!.b64_json, "base64");
  assert.equal(png.subarray(1, 4).toString(), "PNG", "a PNG");
  return sharp(png).ensureAlpha().raw().toBuffer();
}

function largestDifference(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
  return largest;
}

test("glide worker --device webgpu: named when ready and in /v1/models; its picture is the CPU worker's", async () => {
  const gpu = await deviceWorker("webgpu");
  assert.match(gpu.stdout, /ready: model 'text2im' \(generate 16, .*\), 1 slot\(s\) on webgpu, taking jobs from /);
  ({ server, url } = await queueServer(redis.url));
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { device: string }[] };
  assert.equal(models.data[0]!.device, "webgpu");
  const onGpu = await generatePixels();
  assert.match(gpu.stdout, /job \S+ started/, "the webgpu worker ran the job");

  // The same request again, on a CPU worker alone.
  gpu.child.kill("SIGTERM");
  assert.equal(await gpu.exited, 0);
  const cpu = await deviceWorker("cpu");
  assert.match(cpu.stdout, /1 slot\(s\) on cpu/);
  const onCpu = await generatePixels();
  assert.match(cpu.stdout, /job \S+ started/, "the cpu worker ran the job");

  // Measured: the 16×16 pictures are identical (largest difference 0 of 255 over two runs). The
  // samples themselves may differ by up to 2e-3 on [-1, 1] (test/runtime/device.test.ts), a quarter
  // of an 8-bit step, which can tip a channel's rounding by 1: 2 of 255 allows that, and still fails
  // a wrong picture, as another seed's differs by far more.
  const TOLERANCE = 2;
  const gpuVsCpu = largestDifference(onGpu, onCpu);
  console.log(`largest channel difference, webgpu vs cpu: ${gpuVsCpu} of 255`);
  assert.ok(gpuVsCpu <= TOLERANCE, `webgpu and cpu pictures differ by up to ${gpuVsCpu} of 255`);
  const otherSeed = largestDifference(onCpu, await generatePixels(4));
  assert.ok(otherSeed > 10 * TOLERANCE, `another seed's picture differs by only ${otherSeed} of 255`);
  assert.ok(server.child.exitCode === null);
});
