// WebGPU (on SwiftShader, the software Vulkan driver Debian's chromium ships) against the CPU for the
// two pipelines the other device tests leave out: editing with the inpainting model (its known
// pixels and mask enter as extra input channels) and CLIP guidance (the noised CLIP's gradient
// graph runs on the device too). Two steps of the fixture models each: SwiftShader is slow.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { tensorToImages } from "../../packages/glide-ts/src/image/pixels.ts";
import { readImage, readMask } from "../../packages/glide-ts/src/image/read.ts";
import { edit } from "../../packages/glide-ts/src/pipelines/edit.ts";
import { unetNetwork } from "../../packages/glide-ts/src/pipelines/network.ts";
import { textFeeds } from "../../packages/glide-ts/src/pipelines/text-features.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { fixtureBase, fixtureClip } from "../clip/fixtures.ts";
import { fixtureModel, tempDir, writeMask, writePicture } from "../pipelines/helpers.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
/** The bound of test/runtime/device.test.ts for samples in [-1, 1]. */
const TOLERANCE = 2e-3;

function largestDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

test("editing with the inpainting model on WebGPU: the CPU's picture, the kept pixels kept", async (t) => {
  assert.ok(existsSync(SWIFTSHADER), `Debian's chromium ships ${SWIFTSHADER} (apt-get install chromium libvulkan1)`);
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const dir = tempDir();
  const image = await writePicture(dir, "picture.png", 32, 32);
  const mask = await writeMask(dir, "mask.png", 32, 32, { x0: 0.25, x1: 0.75, y0: 0.25, y1: 0.75 });
  const model = await fixtureModel("inpaint");
  const options = { image, mask, prompt: "a corgi", model, steps: 2, seed: 3, threads: 1 } as const;
  const cpu = await edit({ ...options, device: "cpu" });
  const gpu = await edit({ ...options, device: "webgpu" });
  const worst = largestDifference(cpu.samples, gpu.samples);
  t.diagnostic(`largest difference of the edited samples ${worst}`);
  assert.ok(worst < TOLERANCE, `largest difference ${worst}`);
  // The fixture's random weights push most of the hole to ±1, where the clamp hides differences:
  // the network's own output, with the known picture and mask as its extra channels, is compared too.
  const size = model.config.image_size;
  const rng = new Rng(7);
  const conditioning = {
    inpaint_image: rng.normalArray(3 * size * size).map((v) => Math.tanh(v)),
    inpaint_mask: Float32Array.from({ length: size * size }, (_, i) => (i % size < size / 2 ? 1 : 0)),
  };
  const x = rng.normalArray(3 * size * size);
  const output = async (executionProvider: "cpu" | "webgpu") => {
    const session = { threads: 1, executionProvider };
    const text = await textFeeds(model, ["a corgi"], [0], session);
    const network = unetNetwork(model, { batch: 1, conditioning: { ...text, ...conditioning }, session });
    return Float32Array.from(await network(x, 500, [1, 3, size, size]));
  };
  const [cpuOut, gpuOut] = [await output("cpu"), await output("webgpu")];
  const scale = cpuOut.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const networkWorst = largestDifference(cpuOut, gpuOut) / scale;
  t.diagnostic(`inpainting U-Net output: largest difference ${networkWorst} of its largest value ${scale}`);
  assert.ok(networkWorst < 1e-4, `inpainting U-Net output differs by ${networkWorst} of its largest value`);
  // The device's picture keeps every known pixel of the source and redraws the hole.
  const { tensor } = await readImage(image, { size });
  const source = tensorToImages(tensor, [1, 3, size, size])[0]!;
  const known = await readMask(mask, { size });
  const out = gpu.images[0]!;
  assert.equal(out.width, size);
  const samePixel = (p: number) => [0, 1, 2].every((c) => out.data[p * 3 + c] === source.data[p * 3 + c]);
  const pixels = [...known.keys()];
  assert.equal(pixels.filter((p) => known[p] === 1 && !samePixel(p)).length, 0, "kept pixels changed");
  assert.ok(pixels.filter((p) => known[p] === 0 && !samePixel(p)).length > 0, "the hole is not redrawn");
});

test("CLIP guidance on WebGPU: the CPU's picture, and not the unguided one", async (t) => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const [model, clip] = await Promise.all([fixtureBase(), fixtureClip()]);
  const options = {
    prompt: "an oil painting of a corgi",
    model,
    sampler: "ddpm",
    steps: 2,
    guidanceScale: 1,
    seed: 5,
    threads: 1,
  } as const;
  const guided = { ...options, clipGuidance: { model: clip, scale: 30 } };
  const cpu = await textToImage({ ...guided, device: "cpu" });
  const gpu = await textToImage({ ...guided, device: "webgpu" });
  const worst = largestDifference(cpu.samples, gpu.samples);
  t.diagnostic(`largest difference ${worst}`);
  assert.ok(worst < TOLERANCE, `largest difference ${worst}`);
  const unguided = await textToImage({ ...options, device: "cpu" });
  const guidanceMoved = largestDifference(cpu.samples, unguided.samples);
  t.diagnostic(`CLIP guidance moved the samples by ${guidanceMoved}`);
  assert.ok(guidanceMoved > 10 * TOLERANCE, `CLIP guidance moved the samples by ${guidanceMoved} only`);
});
