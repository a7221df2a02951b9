// npm run bench:web — seconds per image in the in-browser page (headless Chromium, `npm run
// build:web` served cross-origin isolated) against the Node pipeline on the same machine:
//   - the page on WebAssembly with 1 and with 2 threads (?backend=wasm&threads=N), each a fresh
//     page and worker (the model from Cache Storage after the first);
//   - the page on WebGPU when the browser has a GPU adapter; else it says it is unavailable (headless
//     Chromium has none; --enable-unsafe-webgpu gives only SwiftShader, a CPU emulation: --swiftshader
//     times that too, slowly);
//   - Node (onnxruntime-node) with 1 and 2 threads, the same prompt, seed and settings.
// The workload is the UI's default run: 1 image, the 32×32 base with 25 DPM-Solver++ steps
// (guided) and the 128×128 upsampler at its defaults. "Per image" is the sampling time (first step to
// last), the sessions already compiled; the page's first load (download or cache, parsing,
// compiling) is printed apart. Options: --steps N (25), --no-upsample, --swiftshader.
// The machine may be shared: the figures are indicative; run it on a quiet machine to quote them.
import "../packages/glide-ts/src/platform/node.ts";
import { mkdtempSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { serveStaticWeb } from "../packages/app/src/server/static-web.ts";
import type { Backend, Progress } from "../packages/app/web/ui/backend.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { DEFAULT_UPSAMPLE_SAMPLER, DEFAULT_UPSAMPLE_STEPS } from "../packages/glide-ts/src/pipelines/upsample.ts";
import { buildWeb } from "../scripts/build-web.ts";
import { launchChromium } from "../test/browser/chromium.ts";

const args = process.argv.slice(2);
const stepsAt = args.indexOf("--steps");
const steps = stepsAt >= 0 ? Number(args[stepsAt + 1]) : 25;
if (!Number.isInteger(steps) || steps < 1) throw new Error("--steps must be a positive integer");
const upsample = !args.includes("--no-upsample");
const swiftshader = args.includes("--swiftshader");
const prompt = "a red apple";
const seed = 3;

interface PageRun {
  /** Seconds from the request to the first sampling step: loading the model, compiling, encoding. */
  startup: number;
  /** Seconds sampling each stage, first step to last. */
  base: number;
  upsample: number;
}

/** One image in a fresh page with the given query; timings from the page's own clock. */
async function pageRun(context: BrowserContext, url: string, query: string): Promise<PageRun> {
  const page = await context.newPage();
  // tsx's keepNames helper, for the functions page.evaluate sends.
  await page.addInitScript("globalThis.__name = (f) => f");
  try {
    await page.goto(`${url}/${query}`);
    return await page.evaluate(
      async ({ prompt, seed, steps, upsample }) => {
        const backend = (globalThis as unknown as { glideBackend: Backend }).glideBackend;
        const marks: Record<string, number[]> = { base: [], upsample: [] };
        const started = performance.now();
        await backend.generate(
          { prompt, seed, steps, upsample, n: 1 },
          {
            signal: new AbortController().signal,
            onProgress: (p: Progress) => {
              if (p.total > 0 && !p.preview)
                marks[p.stage === "upsampling" ? "upsample" : "base"]!.push(performance.now());
            },
          },
        );
        const span = (m: number[]) => (m.length > 1 ? (m.at(-1)! - m[0]!) / 1000 : 0);
        return {
          startup: (marks.base![0]! - started) / 1000,
          base: span(marks.base!),
          upsample: span(marks.upsample!),
        };
      },
      { prompt, seed, steps, upsample },
    );
  } finally {
    await page.close();
  }
}

/** What navigator.gpu offers in a page of this browser. */
async function webGpuAdapter(browser: Browser, url: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(`${url}/manifest.json`);
    return await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: { architecture?: string } } | null> } })
        .gpu;
      const adapter = await gpu?.requestAdapter().catch(() => null);
      if (!adapter) return "none";
      return adapter.info?.architecture === "swiftshader" ? "software" : "gpu";
    });
  } finally {
    await page.close();
  }
}

async function nodeRun(threads: number): Promise<{ base: number; upsample: number }> {
  const model = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" })).model;
  const upsampler = upsample
    ? (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" })).model
    : null;
  const run = () => textToImage({ model, upsampler, prompt, seed, steps, threads });
  await run(); // compiles the sessions, as the page's startup does
  const { timings } = await run();
  return { base: timings.base!.sampling, upsample: timings.upsample?.sampling ?? 0 };
}

const line = (what: string, base: number, up: number) =>
  `  ${what.padEnd(36)} ${(base + up).toFixed(1).padStart(6)} s   (base ${base.toFixed(1)}${upsample ? ` + upsample ${up.toFixed(1)}` : ""})`;

const site = await buildWeb({ outDir: join(mkdtempSync(join(tmpdir(), "glide-bench-web-")), "site") });
const server = await serveStaticWeb({ dir: site.outDir, port: 0 });
const browser = await launchChromium();
const gpuBrowser = swiftshader ? await launchChromium(["--enable-unsafe-webgpu"]) : null;
const print = (text: string) => process.stdout.write(`${text}\n`);
const notes: string[] = [];
try {
  print(
    `bench:web — seconds per image: 1 image, "${prompt}", base 32×32 dpm++2m ${steps} steps (guided)` +
      `${upsample ? ` + upsampler 128×128 ${DEFAULT_UPSAMPLE_SAMPLER} ${DEFAULT_UPSAMPLE_STEPS[DEFAULT_UPSAMPLE_SAMPLER]}` : ""}; sampling time, sessions compiled; ` +
      `${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)}`,
  );
  const context = await browser.newContext(); // one cache: the model downloads once
  for (const threads of [1, 2]) {
    const run = await pageRun(context, server.url, `?backend=wasm&threads=${threads}`);
    print(line(`page, WebAssembly, ${threads} thread${threads === 1 ? "" : "s"}`, run.base, run.upsample));
    notes.push(
      `page startup with ${threads} thread(s) (model ${threads === 1 ? "downloaded" : "cached"}, compiling): ${run.startup.toFixed(1)} s`,
    );
  }
  const adapter = await webGpuAdapter(browser, server.url);
  if (adapter === "gpu") {
    const run = await pageRun(context, server.url, "?backend=webgpu");
    print(line("page, WebGPU", run.base, run.upsample));
  } else {
    print(
      "  page, WebGPU                         unavailable: this headless Chromium offers no WebGPU adapter" +
        (swiftshader ? "" : " (--swiftshader: time SwiftShader's CPU emulation)"),
    );
  }
  if (gpuBrowser) {
    const run = await pageRun(await gpuBrowser.newContext(), server.url, "?backend=webgpu");
    print(line("page, WebGPU on SwiftShader (CPU)", run.base, run.upsample));
  }
  for (const threads of [1, 2]) {
    const run = await nodeRun(threads);
    print(line(`node, onnxruntime-node, ${threads} thread${threads === 1 ? "" : "s"}`, run.base, run.upsample));
  }
  for (const note of notes) print(`  ${note}`);
} finally {
  await gpuBrowser?.close();
  await browser.close();
  await server.close();
}
