// `glide download` end to end: the real command as a child process against a local HTTP server on
// 127.0.0.1 serving a fixture file. Nothing leaves loopback.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { formatBytes } from "../../packages/glide-ts/src/download/checkpoints.ts";
import { formatClock as formatDuration, ProgressBar } from "../../packages/glide-ts/src/util/progress-bar.ts";
import { CLIP_FIXTURES } from "../clip/fixtures.ts";
import { fixturePath } from "../fixtures.ts";

const SOURCE = readFileSync(fixturePath("text2im.pt"));
const VOCABULARY = readFileSync(join(CLIP_FIXTURES, "bpe_simple_vocab_16e6.txt.gz"));
/** What the server has besides base.pt: a stand-in for each CLIP tower, the vocabulary, and a wrong one. */
const OTHER_FILES: Record<string, Buffer> = {
  "/files/clip_image_enc.pt": SOURCE.subarray(0, 4000),
  "/files/clip_text_enc.pt": SOURCE.subarray(0, 3000),
  "/vocab/bpe_simple_vocab_16e6.txt.gz": VOCABULARY,
  "/bad-vocab/bpe_simple_vocab_16e6.txt.gz": VOCABULARY.subarray(0, 5000),
};
const seen: IncomingHttpHeaders[] = [];
let cutAfter: number | undefined;

/** Called once the stalling URL has sent its first megabyte (and then sends nothing more). */
let onStall: (() => void) | undefined;

const server = createServer((req, res) => {
  seen.push(req.headers);
  if (req.url === "/stall/base.pt") {
    res.writeHead(200, { "content-length": String(SOURCE.length) });
    res.write(SOURCE.subarray(0, 1_000_000), () => onStall?.());
    return;
  }
  const other = OTHER_FILES[req.url ?? ""];
  if (other) {
    res.writeHead(200, { "content-length": String(other.length) }).end(other);
    return;
  }
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
  // end(), not destroy(): a reset can drop bytes the client has not read yet (seen under load).
  else res.write(body.subarray(0, cutAfter), () => res.socket?.end());
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
      ["packages/app/bin/glide.js", ...args],
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
  assert.match(
    first.stderr,
    /^base: 6\.74 MB in [\d.]+ s \([\d.]+ [kMG]?B\/s\)$/m,
    "a final line when stderr is not a TTY",
  );
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

test("glide download clip-image-enc clip-text-enc: both towers and, once, CLIP's vocabulary", async () => {
  const cacheDir = join(root, "clip");
  const vocabUrl = baseUrl.replace("/files/", "/vocab/bpe_simple_vocab_16e6.txt.gz");
  const args = ["--cache-dir", cacheDir, "--base-url", baseUrl, "--clip-vocab-url", vocabUrl];
  const run = await glide(["download", "clip-image-enc", "clip-text-enc", ...args]);
  assert.equal(run.code, 0, run.stderr);
  const vocabPath = join(cacheDir, "bpe_simple_vocab_16e6.txt.gz");
  assert.equal(
    run.stdout,
    [join(cacheDir, "clip_image_enc.pt"), vocabPath, join(cacheDir, "clip_text_enc.pt"), ""].join("\n"),
    "each tower, and the vocabulary after the first",
  );
  assert.ok(readFileSync(vocabPath).equals(VOCABULARY), "the vocabulary, byte for byte");
  assert.ok(readFileSync(join(cacheDir, "clip_text_enc.pt")).equals(OTHER_FILES["/files/clip_text_enc.pt"]!));

  // The slash spelling names the same file; a vocabulary already there is checked, not fetched.
  const again = await glide(["download", "clip/text-enc", ...args]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^clip\/text-enc: already downloaded \(3\.00 kB\)$/m);
  assert.match(again.stderr, /^clip vocabulary: already downloaded \(1\.36 MB\)$/m);

  const list = await glide(["download", "--list", "--cache-dir", cacheDir]);
  assert.match(list.stdout, /^clip\/image-enc, clip-image-enc +cached +4\.00 kB /m);
  assert.match(list.stdout, /^\(clip vocabulary\) +cached +1\.36 MB +CLIP's BPE vocabulary/m);
  const json = JSON.parse((await glide(["download", "--list", "--json", "--cache-dir", cacheDir])).stdout);
  assert.deepEqual(json.checkpoints[5].aliases, ["clip-text-enc"]);
  assert.equal(json.clipVocabulary.status, "cached");
  assert.equal(json.clipVocabulary.path, vocabPath);
});

test("glide download: a CLIP vocabulary that is not the expected file is refused and not kept", async () => {
  const cacheDir = join(root, "bad-vocab");
  const run = await glide([
    "download",
    "clip-text-enc",
    "--cache-dir",
    cacheDir,
    "--base-url",
    baseUrl,
    "--clip-vocab-url",
    baseUrl.replace("/files/", "/bad-vocab/bpe_simple_vocab_16e6.txt.gz"),
  ]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /\nglide: http:\/\/127\.0\.0\.1:\d+\/bad-vocab\/bpe_simple_vocab_16e6\.txt\.gz is not CLIP's vocabulary file \(5\.00 kB instead of 1\.36 MB\)\n$/,
  );
  assert.ok(existsSync(join(cacheDir, "clip_text_enc.pt")), "the tower itself was fine");
  assert.ok(!existsSync(join(cacheDir, "bpe_simple_vocab_16e6.txt.gz")), "nothing under the final name");
  assert.ok(!existsSync(join(cacheDir, "bpe_simple_vocab_16e6.txt.gz.partial")), "no partial file to resume");
});

test("glide download resumes an interrupted transfer", async () => {
  const cacheDir = join(root, "b");
  cutAfter = 1_000_000;
  const first = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  cutAfter = undefined;
  assert.equal(first.code, 1);
  assert.match(first.stderr, /^glide: download of base interrupted at .*; run again to resume\n$/);

  // What reached the disk: up to the cut (bytes still buffered in the stream when the connection
  // broke are dropped, more of them on a busy machine), and the resume starts exactly there.
  const kept = statSync(join(cacheDir, "base.pt.partial")).size;
  assert.ok(kept > 500_000 && kept <= 1_000_000, `${kept} bytes kept`);
  const keptText = formatBytes(kept).replace(".", "\\.");
  const list = await glide(["download", "--list", "--cache-dir", cacheDir]);
  assert.match(list.stdout, new RegExp(`^base +partial +${keptText} of 6\\.74 MB `, "m"));

  const second = await glide(["download", "base", "--cache-dir", cacheDir, "--base-url", baseUrl]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(seen.at(-1)!.range, `bytes=${kept}-`, "the second run asked for the rest");
  assert.match(second.stderr, new RegExp(`base: resuming at ${keptText}`));
  assert.match(second.stderr, new RegExp(`resumed at ${keptText}`));
  assert.ok(readFileSync(join(cacheDir, "base.pt")).equals(SOURCE), "the resumed file equals the source");
});

test("glide download: one-line errors, exit code 1", async () => {
  const cacheDir = join(root, "c");
  const unknown = await glide(["download", "basee", "--cache-dir", cacheDir]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    'glide: unknown checkpoint "basee"; the released checkpoints are base, upsample, base-inpaint, upsample-inpaint, clip/image-enc (or clip-image-enc), clip/text-enc (or clip-text-enc)\n',
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

test("the download bar: bytes, their rate and the time left; a resumed start is not part of the rate", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(69), "1:09");
  assert.equal(formatDuration(3723), "1:02:03");
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), "--:--");
  const chunks: string[] = [];
  const stream = { isTTY: true, write: (text: string) => chunks.push(text) };
  const bar = new ProgressBar("base", 1_540_000_000, { stream, format: formatBytes });
  bar.resume(770_000_000);
  assert.equal(chunks.at(-1), "\r\x1b[Kbase ████████████░░░░░░░░░░░░ 770 MB / 1.54 GB  … /s  ETA --:--");
  bar.note("base: resuming at 770 MB");
  assert.equal(chunks.at(-1), "\r\x1b[Kbase: resuming at 770 MB\n", "a note clears the bar");
  bar.update(1_540_000_000, "resumed at 770 MB");
  assert.match(chunks.at(-1)!, /^base: 770 MB in [\d.]+ s \([\d.]+ [kMGT]?B\/s, resumed at 770 MB\)\n$/);

  const unknown: string[] = [];
  const noLength = new ProgressBar("base", undefined, {
    stream: { isTTY: true, write: (t: string) => unknown.push(t) },
    format: formatBytes,
  });
  noLength.start();
  assert.equal(unknown.at(-1), "\r\x1b[Kbase  0 B  … /s", "no bar without a length");
  noLength.cancel();
  assert.equal(unknown.at(-1), "\r\x1b[K", "cancel clears the line, no summary");
});

test("glide download --cache-dir where no directory can be made: a clear error at once", async () => {
  if (!existsSync("/proc/self")) return;
  const started = performance.now();
  const run = await glide(["download", "base", "--cache-dir", "/proc/glide-cache", "--base-url", baseUrl]);
  assert.ok(performance.now() - started < 10_000, "no hang (a recursive mkdir there never settles)");
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "glide: cannot create cache directory /proc/glide-cache: /proc does not accept new directories\n",
  );
});

test("glide download: SIGTERM during a transfer ends the process, keeping the partial file", async () => {
  const cacheDir = join(root, "stopped");
  const child = spawn(process.execPath, ["packages/app/bin/glide.js", "download", "base", "--cache-dir", cacheDir], {
    env: { ...process.env, GLIDE_DOWNLOAD_BASE_URL: baseUrl.replace("/files/", "/stall/") },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  let signalledAt = 0;
  onStall = () =>
    setTimeout(() => {
      signalledAt = performance.now();
      child.kill("SIGTERM");
    }, 300);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.once("exit", (c, s) => done([c, s])),
  );
  onStall = undefined;
  assert.ok(signalledAt > 0, "the transfer started");
  assert.ok(performance.now() - signalledAt < 5000, "the process ends within seconds");
  assert.equal(signal, null, "it exits on its own, with a code");
  assert.equal(code, 143, "128 + SIGTERM");
  assert.match(stderr, /^glide: download of base stopped at 1\.00 MB of 6\.74 MB; run again to resume\n$/);
  assert.equal(statSync(join(cacheDir, "base.pt.partial")).size, 1_000_000, "the partial file stays for a resume");
});
