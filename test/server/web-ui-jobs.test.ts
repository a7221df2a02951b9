// The web UI over the server's asynchronous jobs, in headless Chromium on a server without API keys
// that upsamples (the tiny fixture models): no key field; each result shows its seed, which names
// its download; one progress bar over sampling and upsampling that never goes back; a reload keeps
// the gallery and follows a job still running; the edit form's complaint is in view at 1280×900.
// Screenshots go to .cache/screens/ (git-ignored).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { readPngText } from "../../packages/glide-ts/src/image/png-text.ts";
import { launchChromium } from "../browser/chromium.ts";
import { fixtureModels, fixtureServer } from "./helpers.ts";

const SCREENS = join(process.cwd(), ".cache", "screens");
const VIEWPORT = { width: 1280, height: 900 };

let server: GlideServer;
let browser: Browser;
before(async () => {
  mkdirSync(SCREENS, { recursive: true });
  [server, browser] = await Promise.all([
    fixtureServer({ models: fixtureModels(true), jobTtlSeconds: 1800 }),
    launchChromium(),
  ]);
});
after(async () => {
  await browser?.close();
  await server?.shutdown();
});

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  // tsx compiles with keepNames: the functions passed to page.evaluate may call __name.
  await page.addInitScript("globalThis.__name = (f) => f;");
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  await page.goto(server.url);
  await page.getByRole("button", { name: "Generate" }).waitFor();
  return { page, problems };
}

/** Records every value the progress bar takes and each stage named, as `window.barSeen`. */
function recordBar(page: Page): Promise<void> {
  return page.evaluate(() => {
    const seen = { values: [] as number[], stages: [] as string[], previews: 0 };
    (window as unknown as { barSeen: typeof seen }).barSeen = seen;
    const bar = document.querySelector<HTMLProgressElement>(".progress-bar")!;
    const detail = document.querySelector(".progress-detail")!;
    new MutationObserver(() => {
      if (bar.hasAttribute("value")) seen.values.push(bar.value / bar.max);
      const stage = /^(\w+):/.exec(detail.textContent ?? "")?.[1];
      if (stage && seen.stages.at(-1) !== stage) seen.stages.push(stage);
      seen.previews = Math.max(seen.previews, document.querySelectorAll(".preview-slot").length);
    }).observe(document.querySelector(".progress")!, { attributes: true, subtree: true, childList: true });
  });
}

const results = (page: Page) => page.locator(".result-card");

test("no key field without keys; seeds on the cards and in the file names; one bar over both stages; a reload keeps the gallery", async () => {
  const { page, problems } = await openPage();
  assert.equal(await page.getByLabel("API key").count(), 0, "the server asks for no key: no key field");
  assert.match((await page.locator(".gallery-kept").textContent()) ?? "", /kept on the server for 30 minutes/);
  assert.equal(await page.getByLabel("Picture size").inputValue(), "upsample");

  await page.getByLabel("Prompt").fill("a red heart");
  // Four pictures: each upsampling step takes long enough for the page's polls to see it.
  await page.getByLabel("Pictures").fill("4");
  await page.getByLabel("Sampler").selectOption("ddim");
  await page.getByLabel("Steps").fill("30");
  await page.getByLabel("Seed").fill("41");
  await recordBar(page);
  await page.getByRole("button", { name: "Generate" }).click();
  // (attached: on a busy machine the run may have ended, the line hidden, before this looks; on a
  // very busy one the page's polls may miss the short upsampling stage altogether)
  const upsampling = page.locator(".progress-detail").filter({ hasText: /^Upsampling: step/ });
  const shown = await Promise.race([
    upsampling.waitFor({ state: "attached", timeout: 60_000 }).then(() => true),
    results(page)
      .nth(3)
      .waitFor({ timeout: 60_000 })
      .then(() => false),
  ]);
  if (shown) await page.screenshot({ path: join(SCREENS, "running-upsampling.png") });
  await results(page).nth(3).waitFor();
  const seen = await page.evaluate(
    () => (window as unknown as { barSeen: { values: number[]; stages: string[]; previews: number } }).barSeen,
  );
  const upsamplingSeen = seen.stages.includes("Upsampling");
  assert.deepEqual(seen.stages, upsamplingSeen ? ["Sampling", "Upsampling"] : ["Sampling"], "the stages, in order");
  assert.ok(upsamplingSeen || !shown, "the upsampling line was recorded when it was shown");
  for (let i = 1; i < seen.values.length; i++) {
    assert.ok(
      seen.values[i]! >= seen.values[i - 1]!,
      `the bar went back from ${seen.values[i - 1]} to ${seen.values[i]}`,
    );
  }
  assert.equal(seen.previews, 4, "a preview per picture");

  const seeds = await page.locator(".result-seed").allTextContents();
  assert.equal(seeds.length, 4);
  for (const seed of seeds) assert.match(seed, /^seed \d+$/);
  const names = await page
    .getByRole("link", { name: "Download" })
    .evaluateAll((links) => links.map((link) => link.getAttribute("download")));
  for (const [i, name] of names.entries()) {
    assert.equal(name, `glide-a-red-heart-${seeds[i]!.slice(5)}.png`, "the seed names the download");
  }
  await page.screenshot({ path: join(SCREENS, "main-with-results.png") });

  // After a reload the server's kept results come back, with their seeds and captions.
  await page.reload();
  await results(page).nth(3).waitFor();
  assert.deepEqual(await page.locator(".result-seed").allTextContents(), seeds);
  assert.deepEqual(
    await page.locator(".result-card figcaption").evaluateAll((f) => f.map((e) => e.getAttribute("title"))),
    ["a red heart", "a red heart", "a red heart", "a red heart"],
  );

  // "Use these settings" fills the form with the picture's prompt, options and own seed.
  await page.getByLabel("Prompt").fill("");
  await page.getByRole("button", { name: "Use these settings" }).nth(1).click();
  assert.equal(await page.getByLabel("Prompt").inputValue(), "a red heart");
  assert.equal(await page.getByLabel("Seed").inputValue(), seeds[1]!.slice(5));
  assert.equal(await page.getByLabel("Steps").inputValue(), "30");

  // The download carries the picture's parameters (written by the page when the server's PNG has none).
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download" }).first().click(),
  ]);
  assert.equal(download.suggestedFilename(), `glide-a-red-heart-${seeds[0]!.slice(5)}.png`);
  const texts = readPngText(new Uint8Array(await readFile((await download.path())!)));
  assert.match(
    texts.parameters ?? "",
    new RegExp(`^a red heart\nSteps: 30, Sampler: ddim, .*Seed: ${seeds[0]!.slice(5)}`),
  );

  // Variations of a result: a job on /v1/images/jobs/variations, its pictures ahead in the gallery.
  await page.getByLabel("Steps").fill("5");
  await page.getByRole("button", { name: "Variations" }).first().click();
  await page.locator(".controls .message").filter({ hasText: "Done: 1 picture" }).waitFor();
  assert.equal(await page.locator(".result-card figcaption").first().getAttribute("title"), "Variation: a red heart");

  // The zoom view opens from the picture and closes with Escape.
  await page.getByRole("button", { name: "Enlarge: a red heart" }).first().click();
  await page.getByRole("dialog").waitFor();
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "hidden" });
  assert.deepEqual(problems, []);
  await page.context().close();
});

test("a job still running when the page reloads is followed again, with its progress", async () => {
  const { page, problems } = await openPage();
  await page.getByLabel("Prompt").fill("a long blue circle");
  await page.getByLabel("Sampler").selectOption("ddpm");
  await page.getByLabel("Steps").fill("400");
  await page.getByRole("button", { name: "Generate" }).click();
  await page
    .locator(".progress-detail")
    .filter({ hasText: /step [1-9]\d* of 400/ })
    .waitFor();
  await page.reload();
  await page.locator(".progress-title").filter({ hasText: "Still generating: a long blue circle" }).waitFor();
  await page
    .locator(".progress-detail")
    .filter({ hasText: /step \d+ of 400/ })
    .waitFor();
  await page.locator(".preview").first().waitFor();
  await page.screenshot({ path: join(SCREENS, "running-after-reload.png") });
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.locator(".controls .message").filter({ hasText: "Cancelled." }).waitFor();
  const jobs = (await (await fetch(`${server.url}/v1/images/jobs`)).json()) as { data: { status: string }[] };
  assert.equal(jobs.data[0]!.status, "cancelled", "Cancel cancelled the job on the server");
  assert.deepEqual(problems, []);
  await page.context().close();
});

test("at 1280×900 the edit form's complaint is in view; the mask rule is beside the brush; before/after", async () => {
  const { page, problems } = await openPage();
  await page.getByLabel("Picture size").selectOption("base");
  await page.getByLabel("Prompt").fill("a green square");
  await page.getByLabel("Steps").fill("6");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.locator(".controls .message").filter({ hasText: "Done: 1 picture" }).waitFor();
  await page.getByRole("button", { name: "Edit", exact: true }).first().click();
  assert.match((await page.locator(".mask-rule").textContent()) ?? "", /Painted = redrawn/);
  const box = (await page.locator(".mask-overlay").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 8 });
  await page.mouse.up();
  await page.getByRole("button", { name: "Redraw marked part" }).click();
  const complaint = page.getByRole("alert").filter({ hasText: "Describe what to paint in the marked part." });
  await complaint.waitFor();
  const where = (await complaint.boundingBox())!;
  assert.ok(where.y >= 0 && where.y + where.height <= VIEWPORT.height, `the complaint is in view (y ${where.y})`);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "edit-prompt");
  await page.screenshot({ path: join(SCREENS, "edit-view-error.png") });

  // Invert marks the rest; twice gives the stroke back. A softened edge sends a mask with partial alpha.
  const marked = () => page.locator(".marked").textContent();
  const stroke = await marked();
  await page.getByRole("button", { name: "Invert" }).click();
  assert.match((await marked()) ?? "", /^9\d% marked$/);
  await page.getByRole("button", { name: "Invert" }).click();
  assert.equal(await marked(), stroke);
  await page.getByLabel("Soften the edge").evaluate((input: HTMLInputElement) => {
    input.value = "15";
    input.dispatchEvent(new Event("input"));
  });
  await page.getByLabel("Describe the new part").fill("a yellow dot");
  await page.getByRole("button", { name: "Redraw marked part" }).click();
  await page.locator(".controls .message").filter({ hasText: "Done: 1 picture" }).waitFor();
  // The softened edge: along the stroke the result mixes the redrawn and the original pixels.
  const mixed = await page.evaluate(async () => {
    const [after, before] = Array.from(document.querySelectorAll<HTMLImageElement>("img.result")).slice(0, 2);
    const read = async (image: HTMLImageElement) => {
      const bitmap = await createImageBitmap(await (await fetch(image.src)).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext("2d")!;
      context.drawImage(bitmap, 0, 0);
      return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    };
    const [a, b] = [await read(after!), await read(before!)];
    let changed = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++;
    return changed;
  });
  assert.ok(mixed > 0, "the edit changed the picture");
  await page.getByRole("button", { name: "Before/after" }).first().click();
  await page.getByRole("dialog").waitFor();
  await page.screenshot({ path: join(SCREENS, "edit-before-after.png") });
  await page.keyboard.press("Escape");
  assert.deepEqual(problems, []);
  await page.context().close();
});
