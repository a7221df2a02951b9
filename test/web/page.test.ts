// The in-browser page (`npm run build:web`) in headless Chromium, served by `glide serve --web`:
// cross-origin isolated with WebAssembly threads; the shipped model generates the Node pipeline's
// picture for the same prompt, seed and settings; a second visit works with the model URLs
// blocked (Cache Storage); a mask painted in the UI edits a picture and keeps the rest; cancelling
// rejects at once and leaves the worker usable; the page stays responsive while it draws; bad
// pictures, empty masks and broken model files give clear messages.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import type { Progress } from "../../packages/app/web/ui/backend.ts";
import { readPngText } from "../../packages/glide-ts/src/image/png-text.ts";
import { loadModel, textToImage } from "../../packages/glide-ts/src/node.ts";
import type { WebBuild } from "../../scripts/build-web.ts";
import { launchChromium } from "../browser/chromium.ts";
import { buildForTest, preparePage, type ServedPage, serveWebCli, type TestWindow } from "./helpers.ts";

const PROMPT = "a red apple";
const SEED = 11;
const STEPS = 4;

let site: WebBuild;
let served: ServedPage;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  site = await buildForTest();
  [served, browser] = await Promise.all([serveWebCli(site.outDir), launchChromium()]);
  context = await browser.newContext();
  page = await openPage(context, "");
});
after(async () => {
  await browser?.close();
  await served?.stop();
});

async function openPage(ctx: BrowserContext, query: string): Promise<Page> {
  const p = await ctx.newPage();
  await preparePage(p);
  p.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
  await p.goto(`${served.url}/${query}`);
  await p.locator(".backend-label", { hasText: "in this browser" }).waitFor();
  return p;
}

const pixels = async (b64: string) =>
  sharp(Buffer.from(b64, "base64")).removeAlpha().raw().toBuffer({ resolveWithObject: true });

test("served by glide serve --web: isolation headers, wasm MIME type; the page is cross-origin isolated with threads", async () => {
  for (const path of ["/", "/app.js", "/worker.js", `/${site.manifest.runtime.path}`, `/${site.manifest.base.path}`]) {
    const response = await fetch(`${served.url}${path}`, { method: "HEAD" });
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("cross-origin-opener-policy"), "same-origin", path);
    assert.equal(response.headers.get("cross-origin-embedder-policy"), "require-corp", path);
  }
  const wasm = await fetch(`${served.url}/${site.manifest.runtime.path}`, { method: "HEAD" });
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  assert.equal(
    (await fetch(`${served.url}/worker.js`, { method: "HEAD" })).headers.get("content-type"),
    "text/javascript; charset=utf-8",
  );

  assert.deepEqual(await page.evaluate(() => [crossOriginIsolated, typeof SharedArrayBuffer]), [true, "function"]);
  const label = (await page.locator(".backend-label").textContent()) ?? "";
  const threads = Number(/WebAssembly, (\d+) threads?/.exec(label)?.[1]);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  assert.equal(threads, Math.min(4, cores), `threads from the cores (${label})`);
  assert.ok(cores < 2 || threads > 1, "more than one WebAssembly thread where there are cores for it");
});

test("the page generates the Node pipeline's picture for the same prompt, seed and settings (WebAssembly)", async () => {
  const run = await page.evaluate(
    async ({ prompt, seed, steps }) => {
      const w = globalThis as unknown as TestWindow;
      const events: Progress[] = [];
      const started = performance.now();
      const images = await w.glideBackend.generate(
        { prompt, n: 1, seed, steps, upsample: false },
        { signal: new AbortController().signal, onProgress: (p) => events.push(p) },
      );
      return {
        seconds: (performance.now() - started) / 1000,
        png: await w.blobToBase64(images[0]!),
        stages: events.map((e) => e.stage ?? ""),
        fractions: events.flatMap((e) => (e.fraction === undefined ? [] : [e.fraction])),
        steps: events.filter((e) => e.total > 0 && !e.preview).map((e) => e.step),
        previews: events.filter((e) => e.preview?.type === "image/png").length,
      };
    },
    { prompt: PROMPT, seed: SEED, steps: STEPS },
  );
  const loading = run.stages.filter((s) => s.startsWith("loading the model"));
  assert.match(loading.at(-1)!, /^loading the model 100% \(\d+ of \d+ MB\)$/);
  assert.ok(loading.length > 3, "download progress was reported as it went");
  assert.equal(run.fractions.at(-1), 1, "the download's fraction, for the progress bar, ends at 1");
  assert.ok(
    run.fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= run.fractions[i - 1]!)),
    "it only grows",
  );
  assert.deepEqual(run.steps, [0, 1, 2, 3, 4]);
  assert.ok(run.previews >= 1, "previews of the predicted picture");

  const { model } = await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" });
  const reference = await textToImage({ model, prompt: PROMPT, seed: SEED, steps: STEPS });
  const web = await pixels(run.png);
  assert.deepEqual([web.info.width, web.info.height], [32, 32]);
  // Same graph, same float32 weights (float16 widened the same way), same seeded noise; only the
  // kernels differ (WebAssembly SIMD against native MLAS: other summation orders, ~1e-6 relative).
  // Over a few deterministic steps that moves a value by less than one 8-bit level, so rounding
  // flips a few pixels by 1; 3 levels leaves room for other machines' kernels, while a wrong feed,
  // noise or output would be off by tens of levels nearly everywhere.
  let max = 0;
  let sum = 0;
  for (let i = 0; i < web.data.length; i++) {
    const d = Math.abs(web.data[i]! - reference.images[0]!.data[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  assert.ok(max <= 3, `largest difference ${max} levels`);
  assert.ok(sum / web.data.length <= 0.1, `mean difference ${sum / web.data.length} levels`);
});

test("cancelling rejects at once with an AbortError, the worker stops at its next step, and the page stays responsive", async () => {
  const outcome = await page.evaluate(async () => {
    const w = globalThis as unknown as TestWindow;
    const controller = new AbortController();
    // The page's own timers while the worker draws: a blocked page would show long gaps.
    let longestGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 20);
    let abortedAt = 0;
    const run = w.glideBackend.generate(
      { prompt: "a blue car", n: 1, steps: 40, upsample: false },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 3 && !controller.signal.aborted) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      },
    );
    const error = await run.then(
      () => null,
      (e: Error) => e,
    );
    const rejectMs = performance.now() - abortedAt;
    clearInterval(timer);
    // The next run is served as soon as the worker has stopped the cancelled one.
    const started = performance.now();
    const next = await w.glideBackend.generate(
      { prompt: "a blue car", n: 1, steps: 1, seed: 1, upsample: false },
      { signal: new AbortController().signal, onProgress: () => {} },
    );
    return { name: error?.name, rejectMs, longestGap, nextMs: performance.now() - started, next: next.length };
  });
  assert.equal(outcome.name, "AbortError");
  assert.ok(outcome.rejectMs < 100, `rejected ${outcome.rejectMs} ms after the abort`);
  assert.ok(outcome.longestGap < 500, `the page's timers ran (longest gap ${outcome.longestGap} ms)`);
  assert.equal(outcome.next, 1);
  // 37 steps were left: finishing them would take far longer than stopping at the next one.
  assert.ok(outcome.nextMs < 15_000, `the next run took ${outcome.nextMs} ms`);
});

test("an unreadable picture, a mask with nothing to redraw or of another size: clear errors, nothing hangs", async () => {
  const messages = await page.evaluate(async () => {
    const w = globalThis as unknown as TestWindow;
    const square = async (side: number, alpha: number) => {
      const canvas = new OffscreenCanvas(side, side);
      const context = canvas.getContext("2d")!;
      context.fillStyle = `rgba(255, 255, 255, ${alpha})`;
      context.fillRect(0, 0, side, side);
      return canvas.convertToBlob({ type: "image/png" });
    };
    const control = { signal: new AbortController().signal, onProgress: () => {} };
    const options = { prompt: "a hat", n: 1, steps: 1, upsample: false };
    const attempt = (image: Blob, mask: Blob) =>
      w.glideBackend.edit({ ...options, image, mask }, control).then(
        () => "no error",
        (e: Error) => e.message,
      );
    const picture = await square(32, 1);
    return [
      await attempt(new Blob(["not a picture"], { type: "image/png" }), await square(32, 0)),
      await attempt(picture, await square(32, 1)),
      await attempt(picture, await square(16, 0)),
    ];
  });
  assert.match(messages[0]!, /the picture is not a picture this browser can read/);
  assert.match(messages[1]!, /the mask marks nothing to redraw/);
  assert.match(messages[2]!, /the mask is 16×16 but the image is 32×32: a mask must have the same size as the image/);
});

test("a second visit starts offline: with the model and runtime URLs blocked, the UI paints a mask and edits", async () => {
  const blocked: string[] = [];
  await context.route(/\/(models|ort)\/[^/]+\.(safetensors|wasm)/, (route) => {
    blocked.push(route.request().url());
    return route.abort("internetdisconnected");
  });
  try {
    const second = await openPage(context, "?upsample=0");
    assert.match((await second.locator(".backend-label").textContent()) ?? "", /32×32, no upsampler/);
    // A 32×32 picture of four coloured quarters, uploaded in the Edit tab.
    const side = 32;
    const source = Buffer.alloc(side * side * 3);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        source.set([x < 16 ? 230 : 20, y < 16 ? 200 : 40, (x + y) * 4], (y * side + x) * 3);
      }
    }
    const png = await sharp(source, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer();
    await second.getByRole("tab", { name: "Edit" }).click();
    await second
      .locator('input[name="picture"]')
      .setInputFiles({ name: "quarters.png", mimeType: "image/png", buffer: png });
    const overlay = second.locator(".mask-overlay");
    await overlay.waitFor();
    const box = (await overlay.boundingBox())!;
    await second.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await second.mouse.down();
    await second.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 10 });
    await second.mouse.up();
    await second.getByLabel("Describe the new part").fill("a green stripe");
    await second.getByLabel("Steps").fill("3");
    await second.getByLabel("Seed").fill("5");
    // The mask the UI hands the backend, recorded on its way.
    await second.evaluate(() => {
      const w = globalThis as unknown as TestWindow & { sentMask?: Promise<string> };
      // The UI runs through pictures() (it tells the seeds), edits with a mask.
      const pictures = w.glideBackend.pictures!.bind(w.glideBackend);
      w.glideBackend.pictures = (note, input, control) => {
        if ("mask" in input) w.sentMask = w.blobToBase64(input.mask);
        return pictures(note, input, control);
      };
    });
    await second.getByRole("button", { name: "Redraw marked part" }).click();
    // Its start says what it does (not a frozen "step 0"); the screenshot is for a person to look at.
    await second
      .locator(".progress-detail")
      .filter({ hasText: /^(Preparing the model|Loading|Drawing|Sampling)/ })
      .waitFor({ state: "attached" });
    mkdirSync(join(process.cwd(), ".cache", "screens"), { recursive: true });
    await second.screenshot({ path: join(process.cwd(), ".cache", "screens", "browser-build-starting.png") });
    // The first run of a page compiles the model: on a loaded machine that alone can take 30 s.
    await second.locator("img.result").first().waitFor({ timeout: 90_000 });
    const [resultB64, maskB64] = await second.evaluate(async () => {
      const w = globalThis as unknown as TestWindow & { sentMask: Promise<string> };
      const image = document.querySelector<HTMLImageElement>("img.result")!;
      return [await w.blobToBase64(await (await fetch(image.src)).blob()), await w.sentMask];
    });
    const result = await pixels(resultB64);
    const mask = await sharp(Buffer.from(maskB64, "base64")).ensureAlpha().raw().toBuffer();
    let kept = 0;
    let keptChanged = 0;
    let redrawnChanged = 0;
    for (let p = 0; p < side * side; p++) {
      const same = [0, 1, 2].every((c) => result.data[p * 3 + c] === source[p * 3 + c]);
      if (mask[p * 4 + 3] !== 0) {
        kept++;
        if (!same) keptChanged++;
      } else if (!same) redrawnChanged++;
    }
    assert.ok(kept > 0 && kept < side * side, `the painted stroke marks part of the picture (${kept} kept)`);
    assert.equal(keptChanged, 0, "every kept pixel is the picture's");
    assert.ok(redrawnChanged > 0, "the marked part was redrawn");
    await second
      .locator(".controls .message")
      .filter({ hasText: /^Done: 1 picture/ })
      .waitFor();
    assert.match((await second.locator(".result-seed").first().textContent()) ?? "", /^seed 5$/);
    // The picture carries how it was made, as the CLI's and the server's do.
    const chunks = readPngText(new Uint8Array(Buffer.from(resultB64, "base64")));
    assert.match(chunks.parameters ?? "", /^a green stripe\nSteps: 3, .*Seed: 5, Size: 32x32/);
    // A reload keeps the gallery (IndexedDB).
    await second.reload();
    await second.locator(".result-seed").filter({ hasText: "seed 5" }).first().waitFor();
  } finally {
    await context.unroute(/\/(models|ort)\/[^/]+\.(safetensors|wasm)/);
  }
  assert.deepEqual(blocked, [], "nothing was fetched: the model and runtime came from Cache Storage");
});

test("a model file that fails to load (truncated, then damaged) is reported in the page; nothing hangs", async () => {
  const fresh = await browser.newContext(); // an empty cache
  const base = site.manifest.base;
  const real = await (await fetch(`${served.url}/${base.path}`)).arrayBuffer();
  let body = Buffer.from(real).subarray(0, 1_000_000);
  await fresh.route(/\/models\/glide-ts-base32\.safetensors/, (route) =>
    route.fulfill({ status: 200, contentType: "application/octet-stream", body }),
  );
  try {
    const broken = await openPage(fresh, "");
    const message = broken.locator(".controls .message");
    await broken.getByLabel("Prompt").fill("a red apple");
    await broken.getByRole("button", { name: "Generate" }).click();
    await message.filter({ hasText: "Generating failed" }).waitFor();
    assert.equal(
      await message.textContent(),
      `Generating failed: ${base.path}: got 1000000 of its ${base.bytes} bytes (a truncated file?).`,
    );
    // Full length, one byte changed: the digest tells it from the build's file.
    body = Buffer.from(real);
    body[body.length >> 1] ^= 0xff;
    await broken.getByRole("button", { name: "Generate" }).click();
    await message.filter({ hasText: "not the file the build wrote" }).waitFor();
    assert.match((await message.textContent()) ?? "", new RegExp(`^Generating failed: ${base.path}: its contents`));
  } finally {
    await fresh.close();
  }
});
