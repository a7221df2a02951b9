// The web UI at / in a real browser: headless Chromium (playwright-core) on a server that needs an
// API key and serves the tiny fixture model. It types a prompt, watches the progress and the
// preview, gets the pictures, paints a mask on one with the mouse, runs an edit and checks the mask
// that was sent and the picture that came back; a phone-sized page paints by touch and does not
// overflow. Screenshots are written to .cache/test-artifacts/web-ui/ (git-ignored).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { launchChromium } from "../browser/chromium.ts";
import { fixtureServer, readMetric } from "./helpers.ts";

const ARTIFACTS = join(process.cwd(), ".cache", "test-artifacts", "web-ui");
const KEY = "sk-web-ui-test";

let server: GlideServer;
let browser: Browser;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [server, browser] = await Promise.all([fixtureServer({ apiKeys: [KEY] }), launchChromium()]);
});
after(async () => {
  await browser?.close();
  await server?.shutdown();
});

/** A GET with the path sent as written (fetch would normalise `..` away). */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const metric = (name: string) => readMetric(server.url, name);

/** A page that records its errors and requests from other origins. */
async function openPage(
  options: Parameters<Browser["newContext"]>[0] = {},
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // A rejected key is answered 401, which the console reports as a failed load: expected.
    if (message.type() === "error" && !/status of 401/.test(message.text())) problems.push(message.text());
  });
  page.on("request", (request) => {
    if (!request.url().startsWith(server.url) && !/^(blob|data):/.test(request.url())) {
      problems.push(`request to another host: ${request.url()}`);
    }
  });
  await page.goto(server.url);
  await page.getByRole("button", { name: "Generate" }).waitFor();
  return { page, problems };
}

/** The bytes behind a gallery picture (a blob: URL). */
async function imageBytes(page: Page, index: number): Promise<Buffer> {
  const b64 = await page.evaluate(async (i) => {
    const image = document.querySelectorAll<HTMLImageElement>("img.result")[i]!;
    const bytes = new Uint8Array(await (await fetch(image.src)).arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  }, index);
  return Buffer.from(b64, "base64");
}

const rgba = async (png: Buffer | Uint8Array) => sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });

/** The left-to-right positions a drag goes through, as fractions of the element's box. */
async function drag(page: Page, selector: string, from: [number, number], to: [number, number]): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  const at = ([fx, fy]: [number, number]) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 12 });
  await page.mouse.up();
}

/** A multipart POST the page sent: its fields, files as base64 (Chromium does not show blob bodies to playwright). */
interface PostedForm {
  url: string;
  authorization: string | null;
  fields: Record<string, string>;
}

/** Records the next FormData the page's fetch sends, as `window.posted`. */
function recordFormPosts(page: Page): Promise<void> {
  return page.evaluate(() => {
    const send = window.fetch.bind(window);
    window.fetch = async (input, init) => {
      if (init?.body instanceof FormData) {
        const fields: Record<string, string> = {};
        const entries: [string, FormDataEntryValue][] = [];
        init.body.forEach((value, name) => {
          entries.push([name, value]);
        });
        for (const [name, value] of entries) {
          if (typeof value === "string") fields[name] = value;
          else {
            let text = "";
            for (const byte of new Uint8Array(await value.arrayBuffer())) text += String.fromCharCode(byte);
            fields[name] = btoa(text);
          }
        }
        const authorization = new Headers(init.headers).get("authorization");
        (window as unknown as { posted: PostedForm }).posted = { url: String(input), authorization, fields };
      }
      return send(input, init);
    };
  });
}

const message = (page: Page) => page.locator(".controls .message");

test("/ serves the page, its script and its style sheet from memory without a key; nothing else is there", async () => {
  const page = await rawGet("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
  assert.equal(page.headers["cache-control"], "no-cache");
  assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
  const script = /src="(app-[\w-]+\.js)"/.exec(page.body)?.[1];
  const style = /href="(app-[\w-]+\.css)"/.exec(page.body)?.[1];
  assert.ok(script && style, "index.html links the bundled script and style sheet");

  const js = await rawGet(`/${script}`);
  assert.equal(js.status, 200);
  assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
  assert.match(String(js.headers["cache-control"]), /immutable/);
  assert.ok(js.body.length > 1000 && !js.body.includes("\n  "), "the script is minified");
  const css = await rawGet(`/${style}`, { "if-none-match": String((await rawGet(`/${style}`)).headers.etag) });
  assert.equal(css.status, 304, "a cached style sheet is revalidated by its ETag");
  assert.equal((await rawGet("/index.html")).body, page.body);

  for (const path of ["/web/", "/web/index.html", "/../package.json", "/%2e%2e/package.json", "/app.js", "/ui/"]) {
    const answer = await rawGet(path);
    assert.equal(answer.status, 404, path);
    assert.ok(!answer.body.includes('"name": "glide-ts"'), path);
  }
  const config = JSON.parse((await rawGet("/ui/config")).body);
  assert.equal(config.imageSize, 16);
  assert.equal(config.apiKeyRequired, true);
  assert.equal(config.editUnavailable, null);
  assert.ok(config.samplers.includes("ddim"));
  assert.equal((await rawGet("/v1/models")).status, 401, "the API itself still needs the key");
});

test("in Chromium: a key, a prompt, progress with previews, the gallery; then a painted mask and an edit", async () => {
  const { page, problems } = await openPage({ viewport: { width: 1280, height: 900 } });
  assert.match((await page.locator(".backend-label").textContent()) ?? "", /glide serve · fixture · 16×16/);

  // Without the key, and with a wrong one: clear messages, no hang.
  await page.getByLabel("Prompt").fill("a red heart");
  await page.getByRole("button", { name: "Generate" }).click();
  await assert.doesNotReject(message(page).filter({ hasText: "needs an API key" }).waitFor());
  await page.getByLabel("API key").fill("sk-wrong");
  await page.getByRole("button", { name: "Generate" }).click();
  await message(page).filter({ hasText: "Generating failed: a valid API key is required" }).waitFor();
  await page.getByLabel("API key").fill(KEY);
  assert.equal(await page.evaluate(() => localStorage.getItem("glide-ts.apiKey")), KEY);

  await page.getByLabel("Pictures").fill("2");
  await page.getByLabel("Sampler").selectOption("ddim");
  await page.getByLabel("Steps").fill("40");
  await page.getByLabel("Seed").fill("7");
  // What the progress bar and the preview went through (the fixture model is quick).
  await page.evaluate(() => {
    const seen = { value: 0, max: 0, previews: 0 };
    (window as unknown as { seen: typeof seen }).seen = seen;
    const bar = document.querySelector<HTMLProgressElement>(".progress-bar")!;
    new MutationObserver(() => {
      seen.value = Math.max(seen.value, bar.value);
      seen.max = bar.max;
      const preview = document.querySelector<HTMLImageElement>(".preview");
      if (preview?.getAttribute("src")?.startsWith("blob:")) seen.previews++;
    }).observe(document.querySelector(".progress")!, { attributes: true, subtree: true });
  });
  await page.getByRole("button", { name: "Generate" }).click();
  await page.locator("img.result").nth(1).waitFor();
  await message(page).filter({ hasText: "Done: 2 pictures" }).waitFor();
  const seen = await page.evaluate(
    () => (window as unknown as { seen: { value: number; max: number; previews: number } }).seen,
  );
  assert.equal(seen.max, 1, "the bar is a fraction of the whole run");
  assert.ok(seen.value > 0, `the bar moved (to ${seen.value})`);
  assert.ok(seen.previews > 0, "a preview was shown");
  assert.equal(await page.locator(".progress").isHidden(), true);

  const sizes = await page.$$eval("img.result", async (images) =>
    Promise.all(
      (images as HTMLImageElement[]).map(async (image) => {
        await image.decode();
        return [image.naturalWidth, image.naturalHeight];
      }),
    ),
  );
  assert.deepEqual(sizes, [
    [16, 16],
    [16, 16],
  ]);
  const download = page.getByRole("link", { name: "Download" }).first();
  assert.match((await download.getAttribute("download"))!, /^glide-a-red-heart-\d+\.png$/, "the seed names the file");
  assert.equal(await download.getAttribute("href"), await page.locator("img.result").first().getAttribute("src"));
  // The options reached the server: the API makes the same pictures from the same seed.
  const direct = (await (
    await fetch(`${server.url}/v1/images/generations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ prompt: "a red heart", n: 2, sampler: "ddim", steps: 40, seed: 7 }),
    })
  ).json()) as { data: { b64_json: string }[] };
  const source = await imageBytes(page, 0);
  assert.ok(source.equals(Buffer.from(direct.data[0]!.b64_json, "base64")), "the first picture is the API's");
  await page.screenshot({ path: join(ARTIFACTS, "1-generated.png"), fullPage: true });

  // Edit the first result: nothing painted is refused; then two strokes, part of one erased.
  await page.getByRole("button", { name: "Edit", exact: true }).first().click();
  assert.equal(await page.getByRole("tab", { name: "Edit" }).getAttribute("aria-selected"), "true");
  await page.getByLabel("Describe the new part").fill("a blue square");
  await page.getByRole("button", { name: "Redraw marked part" }).click();
  await page.locator(".form-message").filter({ hasText: "Nothing is marked" }).waitFor();
  await drag(page, ".mask-overlay", [0.1, 0.5], [0.45, 0.5]);
  await drag(page, ".mask-overlay", [0.3, 0.2], [0.3, 0.8]);
  await page.getByRole("button", { name: "Eraser" }).click();
  await drag(page, ".mask-overlay", [0.3, 0.72], [0.3, 0.85]);
  await page.getByRole("button", { name: "Brush" }).click();
  assert.match((await page.locator(".marked").textContent()) ?? "", /^\d+% marked$/);
  await page.screenshot({ path: join(ARTIFACTS, "2-mask.png"), fullPage: true });

  await recordFormPosts(page);
  await page.getByRole("button", { name: "Redraw marked part" }).click();
  const sent = await page.waitForFunction(() => (window as unknown as { posted?: PostedForm }).posted);
  const form = (await sent.jsonValue()) as PostedForm;
  assert.match(form.url, /\/v1\/images\/jobs\/edits$/, "the edit is submitted as a job");
  assert.equal(form.authorization, `Bearer ${KEY}`);
  assert.equal(form.fields.prompt, "a blue square");
  assert.equal(form.fields.seed, "7");
  const sentImage = Buffer.from(form.fields.image!, "base64");
  assert.ok(sentImage.equals(source), "the picture is sent as it was made");
  const mask = await rgba(Buffer.from(form.fields.mask!, "base64"));
  assert.deepEqual([mask.info.width, mask.info.height], [16, 16], "the mask is the picture's size");
  const alpha = (x: number, y: number) => mask.data[(y * 16 + x) * 4 + 3]!;
  assert.ok(
    [...Array(256).keys()].every((p) => mask.data[p * 4 + 3] === 0 || mask.data[p * 4 + 3] === 255),
    "fully transparent or opaque",
  );
  for (const [x, y] of [
    [2, 8],
    [6, 8],
    [4, 4],
    [4, 10],
  ]) {
    assert.equal(alpha(x!, y!), 0, `(${x}, ${y}) was painted: transparent`);
  }
  for (const [x, y] of [
    [4, 13],
    [0, 0],
    [15, 15],
    [12, 3],
  ]) {
    assert.equal(alpha(x!, y!), 255, `(${x}, ${y}) is kept (never painted, or erased): opaque`);
  }

  await page.locator("img.result").nth(2).waitFor();
  await message(page).filter({ hasText: "Done: 2 pictures" }).waitFor();
  assert.equal(await page.locator("figcaption").first().getAttribute("title"), "Edit: a blue square");
  assert.equal(await page.locator(".result-seed").first().textContent(), "seed 7");
  // The server edits with a text2im model by replacement: the kept pixels come back as they were.
  const before = await rgba(source);
  const edited = await rgba(await imageBytes(page, 0));
  assert.deepEqual([edited.info.width, edited.info.height], [16, 16]);
  let changed = 0;
  for (let p = 0; p < 256; p++) {
    for (let c = 0; c < 3; c++) {
      const difference = Math.abs(edited.data[p * 4 + c]! - before.data[p * 4 + c]!);
      if (mask.data[p * 4 + 3] === 255)
        assert.ok(difference <= 2, `kept pixel ${p} channel ${c} moved by ${difference}`);
      else if (difference > 8) changed++;
    }
  }
  assert.ok(changed > 0, "the painted part was redrawn");
  await page.screenshot({ path: join(ARTIFACTS, "3-edited.png"), fullPage: true });

  // A file that is not a picture is refused, and the picture being edited stays.
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name: "notes.png", mimeType: "image/png", buffer: Buffer.from("not a picture") });
  await message(page).filter({ hasText: "not a picture this browser can read" }).waitFor();
  assert.equal(await page.locator(".mask-stage").isVisible(), true);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test("in Chromium: a server that cannot be reached says so, and Try again connects", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route("**/ui/config", (route) => route.abort("connectionrefused"));
  await page.goto(server.url);
  await page
    .getByRole("alert")
    .filter({ hasText: /^Connecting failed: could not reach the server/ })
    .waitFor();
  assert.equal((await page.locator(".backend-label").textContent()) ?? "", "Not connected");
  await page.screenshot({ path: join(ARTIFACTS, "6-not-connected.png") });
  await page.unroute("**/ui/config");
  await page.getByRole("button", { name: "Try again" }).click();
  await page.getByRole("button", { name: "Generate" }).waitFor();
  await context.close();
});

test("in Chromium: Cancel stops a long run on the server; the page is ready again", async () => {
  const { page, problems } = await openPage();
  await page.getByLabel("API key").fill(KEY);
  const cancelledBefore = await metric('glide_jobs_total{outcome="cancelled"}');
  await page.getByLabel("Prompt").fill("a long one");
  await page.getByLabel("Sampler").selectOption("ddpm");
  await page.getByLabel("Steps").fill("1000");
  await page.getByRole("button", { name: "Generate" }).click();
  await page
    .locator(".progress-detail")
    .filter({ hasText: /step [1-9]\d* of 1000/ })
    .waitFor();
  await page.locator(".preview").first().waitFor();
  await page.waitForFunction(() => (document.querySelector(".preview") as HTMLImageElement).naturalWidth === 16);
  await page.screenshot({ path: join(ARTIFACTS, "0-progress.png"), fullPage: true });
  await page.getByRole("button", { name: "Cancel" }).click();
  await message(page).filter({ hasText: "Cancelled." }).waitFor();
  assert.equal(await page.locator(".progress").isHidden(), true);
  assert.equal(await page.getByRole("button", { name: "Generate" }).isEnabled(), true);
  const deadline = Date.now() + 10_000;
  while ((await metric('glide_jobs_total{outcome="cancelled"}')) !== cancelledBefore + 1) {
    assert.ok(Date.now() < deadline, "the server cancelled the job");
    await new Promise((r) => setTimeout(r, 50));
  }
  // (the gallery shows the key's earlier results, kept on the server: none of this run)
  assert.equal(await page.locator('.result-card figcaption[title="a long one"]').count(), 0);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test("on a phone-sized screen (390×844, dark): no horizontal overflow, and the brush paints by touch", async () => {
  const { page, problems } = await openPage({
    viewport: { width: 390, height: 844 },
    colorScheme: "dark",
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok((await overflow()) <= 390, `the page is ${await overflow()} px wide`);
  await page.getByLabel("API key").fill(KEY);
  await page
    .getByLabel("Prompt")
    .fill("a yellow star on a long prompt that wraps onto more than one line of the phone");
  await page.getByLabel("Steps").fill("4");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.locator("img.result").first().waitFor();
  assert.ok((await overflow()) <= 390, `with a result the page is ${await overflow()} px wide`);
  await page.screenshot({ path: join(ARTIFACTS, "4-phone-generated.png"), fullPage: true });

  await page.getByRole("button", { name: "Edit", exact: true }).first().click();
  await page.locator(".mask-overlay").waitFor();
  const box = (await page.locator(".mask-overlay").boundingBox())!;
  assert.ok(box.y >= 0 && box.y + box.height <= 844, `the picture to paint is in view (y ${box.y})`);
  const cdp = await page.context().newCDPSession(page);
  const touch = (type: "touchStart" | "touchMove" | "touchEnd", fx: number, fy: number) =>
    cdp.send("Input.dispatchTouchEvent", {
      type,
      touchPoints: type === "touchEnd" ? [] : [{ x: box.x + fx * box.width, y: box.y + fy * box.height }],
    });
  await touch("touchStart", 0.2, 0.3);
  for (let i = 1; i <= 8; i++) await touch("touchMove", 0.2 + i * 0.07, 0.3);
  await touch("touchEnd", 0, 0);
  assert.match((await page.locator(".marked").textContent()) ?? "", /^\d+% marked$/, "the touch stroke marked pixels");
  assert.ok((await overflow()) <= 390, `in the edit mode the page is ${await overflow()} px wide`);
  await page.screenshot({ path: join(ARTIFACTS, "5-phone-edit.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.context().close();
});
