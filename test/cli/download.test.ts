// `glide download` end to end: the real command as a child process against a local HTTP server on
// 127.0.0.1 serving a fixture file. Nothing leaves loopback.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { progressLine } from "../../src/cli/commands/download.ts";
import { formatClock as formatDuration } from "../../src/util/progress-bar.ts";
import { fixturePath } from "../fixtures.ts";

const SOURCE = readFileSync(fixturePath("text2im.pt"));
const seen: IncomingHttpHeaders[] = [];
let cutAfter: number | undefined;

const server = createServer((req, res) => {
  seen.push(req.headers);
  if (req.url !== "/files/base.pt") {
    res.writeHead(404).end();
    return;
  }
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
  const start = match ? Number(match[1]) : 0;
  const headers: Record<string, string> = { "content-length": String(SOURCE.length - start) };
  if (match) headers["content-range"] = `bytes ${start}-${SOURCE.length - 1}/${SOURCE.length}`;
  res.writeHead(match ? 206 : 200, headers);
  const body = SOURCE.subarray(start);
  if (cutAfter === undefined) res.end(body);
  else res.write(body.subarray(0, cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
});
let baseUrl = "";
let root = "";

before(async () => {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/`;
  root = mkdtempSync(join(tmpdir(), "glide-cli-download-"));
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/glide.js ARGS` without blocking this process (the server lives here). */
function glide(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.GLIDE_DOWNLOAD_BASE_URL;
    if (env.GLIDE_DOWNLOAD_BASE_URL) childEnv.GLIDE_DOWNLOAD_BASE_URL = env.GLIDE_DOWNLOAD_BASE_URL;
    execFile(
      process.execPath,
      ["bin/glide.js", ...args],
      { env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

test("glide download base: fetches into --cache-dir, then reports it cached", async () => {
  const cacheDir = join(root, "a");
  const first = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${join(cacheDir, "base.pt")}\n`, "stdout is the checkpoint's path");
  assert.match(first.stderr, /^base: 6\.74 MB in \d+:\d\d/m, "a final line when stderr is not a TTY");
  assert.ok(!first.stderr.includes("\r"), "no live bar when stderr is not a TTY");
  assert.ok(readFileSync(join(cacheDir, "base.pt")).equals(SOURCE), "the downloaded file equals the source");

  const second = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /base: already downloaded \(6\.74 MB\)/);

  const list = await glide(["download", "--list", "--cache-dir", cacheDir]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`cache directory: ${cacheDir.replaceAll("/", "\\/")}`));
  assert.match(list.stdout, /^base +cached +6\.74 MB /m);
  assert.match(list.stdout, /^upsample +missing +≈1\.59 GB to download /m);

  const json = await glide(["download", "--list", "--json", "--remote"], {
    GLIDE_CACHE: cacheDir,
    GLIDE_DOWNLOAD_BASE_URL: baseUrl,
  });
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as {
    cacheDir: string;
    checkpoints: { name: string; status: string; bytes: number | null; url: string; remoteBytes: number | null }[];
  };
  assert.equal(parsed.cacheDir, cacheDir);
  assert.deepEqual(
    parsed.checkpoints.map((c) => [c.name, c.status]),
    [
      ["base", "cached"],
      ["upsample", "missing"],
      ["base-inpaint", "missing"],
      ["upsample-inpaint", "missing"],
      ["clip/image-enc", "missing"],
      ["clip/text-enc", "missing"],
    ],
  );
  assert.equal(parsed.checkpoints[0]!.remoteBytes, SOURCE.length, "HEAD gives the remote size");
  assert.equal(parsed.checkpoints[0]!.url, `${baseUrl}base.pt`);
});

test("glide download resumes an interrupted transfer", async () => {
  const cacheDir = join(root, "b");
  cutAfter = 1_000_000;
  const first = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  cutAfter = undefined;
  assert.equal(first.code, 1);
  assert.match(first.stderr, /^glide: download of base interrupted at .*; run again to resume\n$/);

  const list = await glide(["download", "--list", "--cache-dir", cacheDir]);
  assert.match(list.stdout, /^base +partial +1\.00 MB of 6\.74 MB /m);

  const second = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(seen.at(-1)!.range, "bytes=1000000-", "the second run asked for the rest");
  assert.match(second.stderr, /base: resuming at 1\.00 MB/);
  assert.match(second.stderr, /resumed at 1\.00 MB/);
  assert.ok(readFileSync(join(cacheDir, "base.pt")).equals(SOURCE), "the resumed file equals the source");
});

test("glide download: one-line errors, exit code 1", async () => {
  const cacheDir = join(root, "c");
  const unknown = await glide(["download", "basee", "--cache-dir", cacheDir]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    'glide: unknown checkpoint "basee"; the released checkpoints are base, upsample, base-inpaint, upsample-inpaint, clip/image-enc, clip/text-enc\n',
  );

  const missing = await glide(["download", "upsample", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^glide: could not download upsample: HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/files\/upsample\.pt\n$/,
  );

  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((done) => closed.close(() => done()));
  const offline = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", `http://127.0.0.1:${port}/`]);
  assert.equal(offline.code, 1);
  assert.equal(offline.stderr, `glide: could not reach 127.0.0.1:${port}: connection refused (are you offline?)\n`);

  const none = await glide(["download", "--cache-dir", cacheDir]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^glide: name the checkpoints to download \(base, .*\), or use --list\n$/);
});

test("progress line and durations", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(69), "1:09");
  assert.equal(formatDuration(3723), "1:02:03");
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), "--:--");
  const line = progressLine("base", 770_000_000, 1_540_000_000, 12_300_000, 100);
  assert.equal(line, "base  [###############---------------]  50%  770 MB / 1.54 GB  12.3 MB/s  ETA 1:03");
  assert.ok(progressLine("base", 5, 10, 1, 40).length <= 40, "fits a narrow terminal");
  assert.equal(progressLine("base", 1_000_000, undefined, 500_000, 80), "base  1.00 MB  500 kB/s");
});
