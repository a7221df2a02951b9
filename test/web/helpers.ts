// What the in-browser page's tests share: the static folder built into a temporary directory,
// `glide serve --web` on it as a child process, and small page utilities.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { Backend } from "../../packages/app/web/ui/backend.ts";
import { buildWeb, type WebBuild } from "../../scripts/build-web.ts";

export async function buildForTest(): Promise<WebBuild> {
  return buildWeb({ outDir: join(mkdtempSync(join(tmpdir(), "glide-web-")), "site") });
}

export interface ServedPage {
  url: string;
  stop(): Promise<void>;
}

/** `glide serve --web DIR --port 0`, resolved once it prints its address. */
export async function serveWebCli(dir: string): Promise<ServedPage> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["packages/app/bin/glide.js", "serve", "--web", dir, "--port", "0"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const read = (data: Buffer) => {
      output += data.toString();
      const found = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (found) resolve(found);
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", () => reject(new Error(`glide serve --web exited:\n${output}`)));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Readies a page for the tests' page.evaluate calls: tsx compiles this process's functions with
 * esbuild's keepNames, which wraps named inner functions in `__name(…)`, so the page gets that
 * helper; and `blobToBase64` to bring Blobs back (Buffer does not exist there).
 */
export async function preparePage(page: Page): Promise<void> {
  await page.addInitScript(`
    globalThis.__name = (f) => f;
    globalThis.blobToBase64 = async (blob) => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let text = "";
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    };`);
}

/** The page's globals the tests use. */
export interface TestWindow {
  glideBackend: Backend;
  blobToBase64(blob: Blob): Promise<string>;
}
