// The in-browser page on WebGPU, in headless Chromium on Linux with no GPU: `--enable-unsafe-webgpu`
// alone gives Chromium's software adapter (SwiftShader; without the flag
// requestAdapter() answers null). With `?backend=webgpu&upsample=0` the page runs the shipped base
// model on it and draws the Node CPU pipeline's picture; where WebGPU is missing (no flag) or fails
// when its session starts (requestDevice rejected in the worker) the page falls back to WebAssembly,
// says so, and still draws the picture.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import type { Progress } from "../../packages/app/web/ui/backend.ts";
import { loadModel, textToImage } from "../../packages/glide-ts/src/node.ts";
import type { WebBuild } from "../../scripts/build-web.ts";
import { launchChromium } from "../browser/chromium.ts";
import { buildForTest, preparePage, type ServedPage, serveWebCli, type TestWindow } from "./helpers.ts";

/**
 * What headless Chromium (156) on Linux needs for a WebGPU adapter where there is no GPU: this flag
 * alone gives the SwiftShader adapter (vendor google, architecture swiftshader, a fallback adapter).
 * The flags often added (`--enable-features=Vulkan --use-vulkan=swiftshader --use-angle=swiftshader
 * --ignore-gpu-blocklist --enable-unsafe-swiftshader`) are not needed, and with `--use-angle=vulkan`
 * trials here sometimes got no adapter or a failing requestDevice. navigator.gpu needs a secure
 * context (the page is served from 127.0.0.1).
 */
const WEBGPU_FLAGS = ["--enable-unsafe-webgpu"];

const PROMPT = "a red apple";
const SEED = 11;
const STEPS = 3;
// Settings named, not the model's recommended ones: a deterministic sampler at a moderate guidance
// keeps float differences between engines from being amplified (DDPM's fresh noise each step, at
// guidance 6, turned the same 1-level rounding into 4).
const SAMPLER = "dpm++2m";
const GUIDANCE = 3;
const QUERY = "?backend=webgpu&upsample=0";

let site: WebBuild;
let served: ServedPage;
let withWebGpu: Browser;
let withoutWebGpu: Browser;
let reference: Promise<Uint8Array>;

before(async () => {
  site = await buildForTest();
  // Each assigned as it comes, so that `after` closes what started even when another failed.
  await Promise.all([
    serveWebCli(site.outDir).then((s) => (served = s)),
    launchChromium(WEBGPU_FLAGS).then((b) => (withWebGpu = b)),
    launchChromium().then((b) => (withoutWebGpu = b)),
  ]);
  // The same picture from the library in Node, on the CPU (onnxruntime-node).
  reference = (async () => {
    const { model } = await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" });
    const result = await textToImage({
      model,
      prompt: PROMPT,
      seed: SEED,
      steps: STEPS,
      sampler: SAMPLER,
      guidanceScale: GUIDANCE,
      device: "cpu",
    });
    return result.images[0]!.data;
  })();
});
after(async () => {
  await withWebGpu?.close();
  await withoutWebGpu?.close();
  await served?.stop();
});

async function openPage(browser: Browser, query: string, workerPrelude = ""): Promise<Page> {
  const context = await browser.newContext();
  if (workerPrelude) {
    // The built worker with a few lines put in front (the worker is a bundle: nothing is hoisted above them).
    await context.route(/\/worker\.js$/, async (route) => {
      const response = await route.fetch();
      route.fulfill({ response, body: `${workerPrelude}\n${await response.text()}` });
    });
  }
  const page = await context.newPage();
  await preparePage(page);
  page.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
  await page.goto(`${served.url}/${query}`);
  await page.locator(".backend-label", { hasText: "in this browser" }).waitFor();
  return page;
}

/** One picture through window.glideBackend: its PNG and the progress stages the page reported. */
async function generate(page: Page) {
  return page.evaluate(
    async ({ prompt, seed, steps, sampler, guidance }) => {
      const w = globalThis as unknown as TestWindow;
      const stages: string[] = [];
      const started = performance.now();
      const images = await w.glideBackend.generate(
        { prompt, n: 1, seed, steps, sampler, guidance, upsample: false },
        { signal: new AbortController().signal, onProgress: (p: Progress) => p.stage && stages.push(p.stage) },
      );
      return {
        seconds: (performance.now() - started) / 1000,
        png: await w.blobToBase64(images[0]!),
        stages,
        label: (await w.glideBackend.info()).label,
      };
    },
    { prompt: PROMPT, seed: SEED, steps: STEPS, sampler: SAMPLER, guidance: GUIDANCE },
  );
}

/** The largest and the mean difference, in 8-bit levels, from Node's CPU picture. */
async function difference(png: string) {
  const web = await sharp(Buffer.from(png, "base64")).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([web.info.width, web.info.height], [32, 32]);
  const cpu = await reference;
  assert.equal(web.data.length, cpu.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < cpu.length; i++) {
    const d = Math.abs(web.data[i]! - cpu[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / cpu.length };
}

test("?backend=webgpu on Chromium's software adapter: the page runs on WebGPU and draws Node's CPU picture", async () => {
  const page = await openPage(withWebGpu, QUERY);
  const label = (await page.locator(".backend-label").textContent()) ?? "";
  assert.match(label, /^in this browser · WebGPU \(/, label);
  assert.match(label, /WebGPU has only a software adapter here/, "forced onto SwiftShader, and it says so");
  const run = await generate(page);
  assert.ok(!run.stages.some((s) => s.startsWith("WebGPU failed")), `it stayed on WebGPU: ${run.stages.join(" | ")}`);
  assert.match(run.label, /^in this browser · WebGPU /);
  const { max, mean } = await difference(run.png);
  process.stderr.write(`webgpu page vs node cpu: max ${max}, mean ${mean.toFixed(4)} levels (${run.seconds} s)\n`);
  // Same graph, weights and seeded noise; WebGPU's shaders sum in other orders than the CPU's
  // kernels (Node's own WebGPU-vs-CPU test: < 2e-3 on [-1, 1], a quarter of a level). Measured here:
  // max 1 level, mean 0.016 (a few pixels round the other way); 3 levels leaves room for other
  // adapters, while a wrong feed, noise or output is off by tens of levels nearly everywhere.
  assert.ok(max <= 3, `largest difference ${max} levels`);
  assert.ok(mean <= 0.1, `mean difference ${mean} levels`);
  await page.context().close();
});

test("no WebGPU adapter (Chromium without the flag), ?backend=webgpu: WebAssembly, with the message, same picture", async () => {
  const page = await openPage(withoutWebGpu, QUERY);
  const adapter = await page.evaluate(async () => {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return (await gpu?.requestAdapter()) ?? null;
  });
  assert.equal(adapter, null, "Chromium without the flag offers no adapter");
  const label = (await page.locator(".backend-label").textContent()) ?? "";
  assert.match(label, /· WebAssembly, \d+ threads?/, label);
  assert.match(label, /this browser offers no WebGPU adapter: running on WebAssembly/);
  const run = await generate(page);
  const { max, mean } = await difference(run.png);
  assert.ok(max <= 3 && mean <= 0.1, `max ${max}, mean ${mean} levels`);
  await page.context().close();
});

test("WebGPU that fails when the session starts (requestDevice rejected): the run goes on on WebAssembly and says why", async () => {
  const page = await openPage(
    withWebGpu,
    QUERY,
    `GPUAdapter.prototype.requestDevice = () => Promise.reject(new Error("injected: no device for this test"));`,
  );
  // The adapter is there, so the page starts out on WebGPU; the failure comes with the first session.
  assert.match((await page.locator(".backend-label").textContent()) ?? "", /^in this browser · WebGPU /);
  const run = await generate(page);
  const failure = run.stages.find((s) => s.startsWith("WebGPU failed"));
  assert.ok(failure, `a fallback message among ${run.stages.join(" | ")}`);
  assert.match(failure, /injected: no device for this test.*: running on WebAssembly$/);
  assert.match(run.label, /· WebAssembly, \d+ threads? .*WebGPU failed/, "the page's backend now says WebAssembly");
  const shown = (await page.locator(".backend-label").textContent()) ?? "";
  assert.match(shown, /· WebAssembly, .*WebGPU failed \(.*injected: no device/, "the page's label says so too");
  const { max, mean } = await difference(run.png);
  assert.ok(max <= 3 && mean <= 0.1, `max ${max}, mean ${mean} levels`);
  // The next run goes straight to WebAssembly: no second failure.
  const next = await generate(page);
  assert.ok(!next.stages.some((s) => s.startsWith("WebGPU failed")), next.stages.join(" | "));
  await page.context().close();
});
