// Devices (src/runtime/device.ts): --device cuda without its provider is one line and exit 1; auto
// on a machine without a GPU runs on the CPU and says so; WebGPU, on the software Vulkan driver
// (SwiftShader) that Debian's chromium ships, gives the CPU's picture within a tolerance.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSession } from "../../packages/glide-ts/src/pipelines/session-options.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import { upsample } from "../../packages/glide-ts/src/pipelines/upsample.ts";
import { DeviceError } from "../../packages/glide-ts/src/runtime/device.ts";
import { fixtureFiles, fixtureModel, tempDir } from "../pipelines/helpers.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
const t2i = fixtureFiles("text2im");

function glide(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean: NodeJS.ProcessEnv = { ...process.env, GLIDE_DEBUG: "" };
  delete clean.VK_ICD_FILENAMES;
  delete clean.VK_DRIVER_FILES;
  return spawnSync(process.execPath, ["packages/app/bin/glide.js", ...args], {
    encoding: "utf-8",
    env: { ...clean, ...env },
  });
}

const generate = (device: string, env: NodeJS.ProcessEnv = {}) =>
  glide(
    ["generate", "a red heart", "--checkpoint", t2i.checkpoint, "--config", t2i.config, "--steps", "2"].concat([
      "--device",
      device,
      "--threads",
      "1",
      "--out",
      join(tempDir(), `${device}.png`),
    ]),
    env,
  );

test("--device cuda without the CUDA provider: one line naming the install command, exit 1", () => {
  const run = generate("cuda");
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /^glide: device cuda: .*--onnxruntime-node-install=cuda12/);
});

test("glide train --device cuda without the provider: the same one line, before anything is written", () => {
  const out = join(tempDir(), "never-made");
  const run = glide(["train", t2i.checkpoint, "--preset", "tiny", "--out", out, "--device", "cuda"]);
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /^glide: device cuda: .*--onnxruntime-node-install=cuda12/);
  assert.ok(!existsSync(out), "no run folder");
});

test("--device auto without a GPU runs on the CPU and says so; a bad device is refused", () => {
  const run = generate("auto");
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /glide: device auto: running on cpu/);
  const bad = generate("tpu");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--device.*tpu.*(auto|cpu)/);
});

test("WebGPU on SwiftShader draws the CPU's picture (2 steps of the fixture model)", async () => {
  assert.ok(existsSync(SWIFTSHADER), `Debian's chromium ships ${SWIFTSHADER} (apt-get install chromium libvulkan1)`);
  // The driver is named for this process only: Dawn reads it when WebGPU is first used.
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const model = await fixtureModel("text2im");
  const options = { prompt: "a red heart", model, steps: 2, seed: 4, batchSize: 1, threads: 1 } as const;
  const cpu = await textToImage({ ...options, device: "cpu" });
  const gpu = await textToImage({ ...options, device: "webgpu" });
  let worst = 0;
  for (let i = 0; i < cpu.samples.length; i++) worst = Math.max(worst, Math.abs(cpu.samples[i]! - gpu.samples[i]!));
  assert.ok(worst < 2e-3, `largest difference ${worst}`);
});

test("--precision int8 on webgpu: one line saying int8 runs on the CPU, before the model loads", () => {
  const run = glide(
    [
      "generate",
      "a red heart",
      "--checkpoint",
      "/nonexistent.safetensors",
      "--precision",
      "int8",
      "--device",
      "webgpu",
    ],
    { VK_ICD_FILENAMES: SWIFTSHADER },
  );
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /^glide: --precision int8 runs on the CPU only, not on webgpu .*use --device cpu/);
});

test("int8 in the library: webgpu is refused, auto takes the CPU even where WebGPU answers", async () => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  assert.equal((await resolveSession({ device: "auto" })).executionProvider, "webgpu");
  assert.equal((await resolveSession({ device: "auto", precision: "int8" })).executionProvider, "cpu");
  await assert.rejects(resolveSession({ device: "webgpu", precision: "int8" }), (error: Error) => {
    assert.ok(error instanceof DeviceError);
    assert.match(error.message, /int8 runs on the CPU only, not on webgpu/);
    return true;
  });
});

test("the upsampler on WebGPU (its first conv takes 6 channels) draws the CPU's picture", async () => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const upsampler = await fixtureModel("superres");
  const image = {
    data: new Uint8Array(4 * 4 * 3).map((_, i) => (i * 37) % 256),
    width: 4,
    height: 4,
    channels: 3 as const,
  };
  const options = { image, prompt: "a corgi", upsampler, seed: 4, steps: 2, threads: 1 } as const;
  const cpu = await upsample({ ...options, device: "cpu" });
  const gpu = await upsample({ ...options, device: "webgpu" });
  let worst = 0;
  for (let i = 0; i < cpu.samples.length; i++) worst = Math.max(worst, Math.abs(cpu.samples[i]! - gpu.samples[i]!));
  assert.ok(worst < 2e-3, `largest difference ${worst}`);
});
