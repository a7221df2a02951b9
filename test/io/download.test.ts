// Checkpoint downloads against a local HTTP server on 127.0.0.1 serving fixture files: complete,
// interrupted and resumed transfers, servers that ignore Range, errors. Nothing leaves loopback.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { defaultCacheDir, resolveCacheDir } from "../../packages/glide-ts/src/download/cache-dir.ts";
import {
  CHECKPOINT_NAMES,
  cacheStatus,
  checkCheckpointName,
  checkpointPath,
  checkpointUrl,
  DEFAULT_BASE_URL,
  DownloadError,
  type DownloadProgress,
  downloadCheckpoint,
  formatBytes,
  remoteSize,
  requireCheckpoint,
  resolveBaseUrl,
} from "../../packages/glide-ts/src/download/checkpoints.ts";
import {
  CLIP_VOCABULARY,
  downloadClipVocabulary,
  resolveClipVocabularyUrl,
} from "../../packages/glide-ts/src/download/clip-vocabulary.ts";
import { makeDirectory } from "../../packages/glide-ts/src/io/directory.ts";
import { VOCABULARY } from "../clip/fixtures.ts";
import { fixture, withTempDir } from "./helpers.ts";

const SOURCE = new Uint8Array(readFileSync(fixture("text2im.pt")));

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** How the test server misbehaves; changeable between requests. */
interface Behaviour {
  /** Answer every GET with 200 and the whole file, whatever the Range header says. */
  ignoreRange?: boolean;
  /** Send this many body bytes, then destroy the socket. */
  cutAfter?: number;
  /** Send this many body bytes, then stop sending (and keep the socket open). */
  stallAfter?: number;
  /** Answer with this status and a short text body. */
  status?: number;
}

interface TestServer {
  baseUrl: string;
  port: number;
  seen: Seen[];
  files: Map<string, { data: Uint8Array; etag: string }>;
  behaviour: Behaviour;
  close(): Promise<void>;
}

/** A static file server with Range/If-Range support on an ephemeral loopback port. */
async function startServer(): Promise<TestServer> {
  const seen: Seen[] = [];
  const files = new Map<string, { data: Uint8Array; etag: string }>([
    ["/files/base.pt", { data: SOURCE, etag: '"v1"' }],
  ]);
  const state: { behaviour: Behaviour } = { behaviour: {} };
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const behaviour = state.behaviour;
    if (req.url === "/moved/base.pt") {
      res.writeHead(302, { location: "/files/base.pt" }).end();
      return;
    }
    const file = files.get(req.url ?? "");
    if (behaviour.status || !file) {
      const status = behaviour.status ?? 404;
      res.writeHead(status, { "content-type": "text/plain" }).end("no\n");
      return;
    }
    const size = file.data.length;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const ifRange = req.headers["if-range"];
    if (range && !behaviour.ignoreRange && (ifRange === undefined || ifRange === file.etag)) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { "content-range": `bytes */${size}` }).end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string> = {
      "content-length": String(size - start),
      etag: file.etag,
      "accept-ranges": "bytes",
    };
    if (status === 206) headers["content-range"] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(status, headers);
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const body = Buffer.from(file.data.buffer, file.data.byteOffset + start, size - start);
    if (behaviour.cutAfter !== undefined) {
      res.write(body.subarray(0, behaviour.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
    } else if (behaviour.stallAfter !== undefined) {
      res.write(body.subarray(0, behaviour.stallAfter));
    } else {
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/files/`,
    port,
    seen,
    files,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: Behaviour) {
      state.behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function withServer(fn: (server: TestServer, dir: string) => Promise<void>): Promise<void> {
  const server = await startServer();
  try {
    await withTempDir((dir) => fn(server, dir));
  } finally {
    await server.close();
  }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sameBytes(path: string, expected: Uint8Array): boolean {
  return Buffer.compare(readFileSync(path), Buffer.from(expected.buffer, expected.byteOffset, expected.length)) === 0;
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<DownloadError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DownloadError, `expected a DownloadError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), `one-line message: ${error.message}`);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

const half = Math.floor(SOURCE.length / 2);

test("names, paths and URLs of the released checkpoints", () => {
  assert.deepEqual(CHECKPOINT_NAMES, [
    "base",
    "upsample",
    "base-inpaint",
    "upsample-inpaint",
    "clip/image-enc",
    "clip/text-enc",
  ]);
  const saved = process.env.GLIDE_DOWNLOAD_BASE_URL;
  delete process.env.GLIDE_DOWNLOAD_BASE_URL;
  try {
    assert.equal(checkpointUrl("base"), "https://openaipublic.blob.core.windows.net/diffusion/dec-2021/base.pt");
    assert.equal(
      checkpointUrl("clip/image-enc"),
      "https://openaipublic.blob.core.windows.net/diffusion/dec-2021/clip_image_enc.pt",
    );
    assert.equal(checkpointUrl("upsample-inpaint"), `${DEFAULT_BASE_URL}upsample_inpaint.pt`);
  } finally {
    if (saved !== undefined) process.env.GLIDE_DOWNLOAD_BASE_URL = saved;
  }
  assert.equal(checkpointUrl("base-inpaint", "http://127.0.0.1:9/m"), "http://127.0.0.1:9/m/base_inpaint.pt");
  assert.equal(
    resolveBaseUrl(undefined, { GLIDE_DOWNLOAD_BASE_URL: "http://127.0.0.1:9/x/" }),
    "http://127.0.0.1:9/x/",
  );
  assert.equal(resolveBaseUrl(undefined, {}), DEFAULT_BASE_URL);
  assert.equal(
    resolveBaseUrl("http://127.0.0.1:1/a", { GLIDE_DOWNLOAD_BASE_URL: "http://127.0.0.1:2/" }),
    "http://127.0.0.1:1/a/",
  );
  assert.throws(() => resolveBaseUrl("ftp://127.0.0.1/"), /must use http or https/);
  assert.throws(() => resolveBaseUrl("not a url"), /is not a URL/);

  assert.equal(checkpointPath("base", "/c"), join("/c", "base.pt"));
  assert.equal(checkpointPath("clip/text-enc", "/c"), join("/c", "clip_text_enc.pt"));
  assert.equal(checkCheckpointName("clip-image-enc"), "clip/image-enc", "the spelling without the slash");
  assert.equal(checkpointPath("clip-text-enc", "/c"), join("/c", "clip_text_enc.pt"));
  assert.equal(checkpointUrl("clip-image-enc", "http://127.0.0.1:9/"), "http://127.0.0.1:9/clip_image_enc.pt");
  for (const bad of ["basee", "", "../base", "toString"]) {
    assert.throws(
      () => checkpointPath(bad, "/c"),
      (error: unknown) =>
        error instanceof DownloadError &&
        error.code === "unknown-name" &&
        error.message.includes(`"${bad}"`) &&
        error.message.includes(
          "base, upsample, base-inpaint, upsample-inpaint, clip/image-enc (or clip-image-enc), clip/text-enc (or clip-text-enc)",
        ),
      `unknown name ${JSON.stringify(bad)} is rejected listing the valid ones`,
    );
  }
});

test("cache directory: GLIDE_CACHE, then XDG_CACHE_HOME, then ~/.cache", () => {
  assert.equal(defaultCacheDir({ GLIDE_CACHE: "/g", XDG_CACHE_HOME: "/x" }, "/home/u"), "/g");
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "/x" }, "/home/u"), join("/x", "glide-ts"));
  assert.equal(
    defaultCacheDir({ GLIDE_CACHE: "", XDG_CACHE_HOME: "rel" }, "/home/u"),
    join("/home/u", ".cache", "glide-ts"),
  );
  assert.equal(defaultCacheDir({}, "/home/u"), join("/home/u", ".cache", "glide-ts"));
  assert.equal(resolveCacheDir("/explicit", { GLIDE_CACHE: "/g" }), "/explicit");
  assert.equal(resolveCacheDir(undefined, { GLIDE_CACHE: "/g" }), "/g");
});

test("formatBytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(6_741_411), "6.74 MB");
  assert.equal(formatBytes(12_345_678), "12.3 MB");
  assert.equal(formatBytes(1_540_000_000), "1.54 GB");
});

test("a full download equals the source, and a second call uses the cache", async () => {
  await withServer(async (server, dir) => {
    const progress: DownloadProgress[] = [];
    const result = await downloadCheckpoint("base", {
      cacheDir: join(dir, "cache"),
      baseUrl: server.baseUrl,
      onProgress: (p) => progress.push(p),
    });
    const path = join(dir, "cache", "base.pt");
    assert.deepEqual(result, { name: "base", path, bytes: SOURCE.length, status: "downloaded" });
    assert.ok(sameBytes(path, SOURCE), "downloaded bytes equal the source");
    assert.deepEqual(
      readdirSync(join(dir, "cache")).sort(),
      ["base.pt", "base.pt.sha256"],
      "no partial, metadata or lock file left; the digest it arrived with beside it",
    );
    assert.ok(progress.length > 0, "progress was reported");
    assert.ok(
      progress.every(
        (p, i) =>
          p.total === SOURCE.length && p.resumedFrom === 0 && (i === 0 || p.received > progress[i - 1]!.received),
      ),
      "progress grows towards the announced total",
    );
    assert.equal(progress.at(-1)!.received, SOURCE.length);
    assert.equal(server.seen.length, 1);
    assert.equal(server.seen[0]!.headers.range, undefined, "a fresh download asks for the whole file");

    const again = await downloadCheckpoint("base", { cacheDir: join(dir, "cache"), baseUrl: server.baseUrl });
    assert.equal(again.status, "cached");
    assert.equal(again.bytes, SOURCE.length);
    assert.equal(server.seen.length, 1, "a cached checkpoint is not fetched again");

    const forced = await downloadCheckpoint("base", {
      cacheDir: join(dir, "cache"),
      baseUrl: server.baseUrl,
      force: true,
    });
    assert.equal(forced.status, "downloaded");
    assert.equal(server.seen.length, 2, "--force fetches again");
    assert.ok(sameBytes(path, SOURCE), "forced download equals the source");
    assert.equal(await requireCheckpoint("base", join(dir, "cache")), path);
  });
});

test("an interrupted transfer leaves only a partial file; the next run resumes with Range", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    const path = join(cacheDir, "base.pt");
    server.behaviour = { cutAfter: half };
    await rejectsWith(
      downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl }),
      "interrupted",
      /^download of base interrupted at .* of 6\.74 MB \(.*127\.0\.0\.1:\d+\); run again to resume$/,
    );
    assert.ok(!existsSync(path), "no final file after an interrupted transfer");
    assert.ok(existsSync(`${path}.partial`), "the partial file is kept");
    assert.ok(!existsSync(`${path}.lock`), "the lock is released");
    const kept = statSync(`${path}.partial`).size;
    assert.ok(kept > 0 && kept <= half, `partial size ${kept} is within what was sent (${half})`);
    await rejectsWith(requireCheckpoint("base", cacheDir), "not-downloaded", /glide download base/);

    const [status] = await cacheStatus(cacheDir);
    assert.deepEqual(status, {
      name: "base",
      aliases: [],
      file: "base.pt",
      path,
      status: "partial",
      bytes: kept,
      total: SOURCE.length,
    });

    server.behaviour = {};
    const notices: string[] = [];
    const progress: DownloadProgress[] = [];
    const result = await downloadCheckpoint("base", {
      cacheDir,
      baseUrl: server.baseUrl,
      onNotice: (m) => notices.push(m),
      onProgress: (p) => progress.push(p),
    });
    assert.equal(result.status, "resumed");
    const last = server.seen.at(-1)!;
    assert.equal(last.headers.range, `bytes=${kept}-`, "the second run asks for the rest");
    assert.equal(last.headers["if-range"], '"v1"', "the resume is guarded by the ETag");
    assert.ok(
      progress.every((p) => p.resumedFrom === kept),
      "progress reports where the transfer resumed",
    );
    assert.ok(
      notices.some((m) => m.includes("resuming")),
      `a notice says it resumes: ${notices.join(" | ")}`,
    );
    assert.ok(sameBytes(path, SOURCE), "resumed file equals the source");
    assert.deepEqual(readdirSync(cacheDir).sort(), ["base.pt", "base.pt.sha256"], "partial and metadata are gone");
  });
});

test("a server that ignores Range restarts the transfer cleanly", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    const path = join(cacheDir, "base.pt");
    server.behaviour = { cutAfter: half };
    await rejectsWith(downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl }), "interrupted", /interrupted/);
    // Spoil the kept bytes: if they were spliced with the whole file, the result would differ.
    const kept = statSync(`${path}.partial`).size;
    writeFileSync(`${path}.partial`, new Uint8Array(kept).fill(0xee));

    server.behaviour = { ignoreRange: true };
    const notices: string[] = [];
    const result = await downloadCheckpoint("base", {
      cacheDir,
      baseUrl: server.baseUrl,
      onNotice: (m) => notices.push(m),
    });
    assert.equal(result.status, "downloaded");
    assert.equal(server.seen.at(-1)!.headers.range, `bytes=${kept}-`, "a range was asked for");
    assert.ok(
      notices.some((m) => m.includes("starting over")),
      `a notice says it starts over: ${notices.join(" | ")}`,
    );
    assert.ok(sameBytes(path, SOURCE), "the restarted file equals the source");
  });
});

test("a file that changed on the server (If-Range mismatch) is fetched whole", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    const path = join(cacheDir, "base.pt");
    server.behaviour = { cutAfter: half };
    await rejectsWith(downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl }), "interrupted", /interrupted/);
    const changed = new Uint8Array(SOURCE.length + 17).fill(7);
    server.files.set("/files/base.pt", { data: changed, etag: '"v2"' });
    server.behaviour = {};
    const result = await downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl });
    assert.equal(result.status, "downloaded");
    assert.ok(sameBytes(path, changed), "the new file, not a splice of old and new");
  });
});

test("416: complete when the partial file has the whole size, otherwise start over", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    const path = join(cacheDir, "base.pt");
    // A process died after the last byte but before the rename.
    await downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl });
    renameSync(path, `${path}.partial`);
    const before = server.seen.length;
    const done = await downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl });
    assert.equal(done.status, "resumed");
    assert.equal(server.seen.length, before + 1, "one request answered 416 finishes it");
    assert.equal(server.seen.at(-1)!.headers.range, `bytes=${SOURCE.length}-`);
    assert.ok(sameBytes(path, SOURCE), "completed from the whole partial file");

    // A partial file longer than the server's file: sizes do not check out.
    unlinkSync(path);
    writeFileSync(`${path}.partial`, new Uint8Array(SOURCE.length + 5).fill(1));
    const notices: string[] = [];
    const redone = await downloadCheckpoint("base", {
      cacheDir,
      baseUrl: server.baseUrl,
      onNotice: (m) => notices.push(m),
    });
    assert.equal(redone.status, "downloaded");
    assert.ok(
      notices.some((m) => m.includes("starting over")),
      `a notice says it starts over: ${notices.join(" | ")}`,
    );
    assert.ok(sameBytes(path, SOURCE), "the restarted file equals the source");
  });
});

test("CLIP's vocabulary: fetched, checked against its size and SHA-256, a wrong copy never kept", async () => {
  assert.equal(resolveClipVocabularyUrl(undefined, {}), CLIP_VOCABULARY.url);
  assert.match(CLIP_VOCABULARY.url, /^https:\/\/raw\.githubusercontent\.com\/openai\/glide-text2im\/[0-9a-f]{40}\//);
  assert.equal(
    resolveClipVocabularyUrl(undefined, { GLIDE_CLIP_VOCAB_URL: "http://127.0.0.1:9/v.gz" }),
    "http://127.0.0.1:9/v.gz",
  );
  assert.throws(() => resolveClipVocabularyUrl("file:///v.gz"), /must use http or https/);
  const vocabulary = new Uint8Array(readFileSync(VOCABULARY));
  await withServer(async (server, dir) => {
    server.files.set("/files/vocab.gz", { data: vocabulary, etag: '"v1"' });
    const cacheDir = join(dir, "cache");
    const path = join(cacheDir, CLIP_VOCABULARY.file);
    const url = `${server.baseUrl}vocab.gz`;
    const first = await downloadClipVocabulary({ cacheDir, url });
    assert.deepEqual([first.status, first.path, first.bytes], ["downloaded", path, CLIP_VOCABULARY.bytes]);
    assert.ok(sameBytes(path, vocabulary));
    assert.equal((await downloadClipVocabulary({ cacheDir, url })).status, "cached");

    // A complete-looking partial file with other bytes (answered 416): checked, dropped, not renamed.
    unlinkSync(path);
    writeFileSync(`${path}.partial`, new Uint8Array(vocabulary.length).fill(7));
    await rejectsWith(downloadClipVocabulary({ cacheDir, url }), "invalid", /is not CLIP's vocabulary file \(SHA-256 /);
    assert.deepEqual(readdirSync(cacheDir), [], "no final, partial or lock file");

    // Something else under the final name is reported, and --force replaces it.
    writeFileSync(path, "not a vocabulary");
    await rejectsWith(downloadClipVocabulary({ cacheDir, url }), "invalid", /download it again with --force$/);
    const forced = await downloadClipVocabulary({ cacheDir, url, force: true });
    assert.equal(forced.status, "downloaded");
    assert.ok(sameBytes(path, vocabulary));
  });
});

test("HTTP errors are named with their status and leave no files", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    const error = await rejectsWith(
      downloadCheckpoint("upsample", { cacheDir, baseUrl: server.baseUrl }),
      "http",
      /^could not download upsample: HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/files\/upsample\.pt$/,
    );
    assert.equal(error.status, 404);
    assert.deepEqual(readdirSync(cacheDir), [], "no final, partial or lock file");

    server.behaviour = { status: 503 };
    await rejectsWith(
      downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl }),
      "http",
      /HTTP 503 Service Unavailable/,
    );
    assert.deepEqual(readdirSync(cacheDir), [], "no files after a 503 either");
  });
});

test("an unreachable host gives the offline error", async () => {
  await withTempDir(async (dir) => {
    const port = await closedPort();
    await rejectsWith(
      downloadCheckpoint("base", { cacheDir: dir, baseUrl: `http://127.0.0.1:${port}/files/` }),
      "offline",
      new RegExp(`^could not reach 127\\.0\\.0\\.1:${port}: connection refused \\(are you offline\\?\\)$`),
    );
    assert.deepEqual(readdirSync(dir), [], "nothing written");
  });
});

test("a stalled server times out, keeping the partial file", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    server.behaviour = { stallAfter: 1000 };
    await rejectsWith(
      downloadCheckpoint("base", { cacheDir, baseUrl: server.baseUrl, stallTimeoutMs: 300 }),
      "interrupted",
      /^download of base interrupted at 1\.00 kB of 6\.74 MB \(no data for 0\.3 s, 127\.0\.0\.1:\d+\); run again to resume$/,
    );
    assert.ok(existsSync(join(cacheDir, "base.pt.partial")), "partial kept");
    assert.ok(!existsSync(join(cacheDir, "base.pt")), "no final file");
  });
});

test("aborting keeps the partial file and says how to resume", async () => {
  await withServer(async (server, dir) => {
    const cacheDir = join(dir, "cache");
    server.behaviour = { stallAfter: half };
    const controller = new AbortController();
    await rejectsWith(
      downloadCheckpoint("base", {
        cacheDir,
        baseUrl: server.baseUrl,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
      "aborted",
      /^download of base stopped at .* of 6\.74 MB; run again to resume$/,
    );
    assert.ok(existsSync(join(cacheDir, "base.pt.partial")), "partial kept");
    assert.ok(!existsSync(join(cacheDir, "base.pt")), "no final file");
    assert.ok(!existsSync(join(cacheDir, "base.pt.lock")), "lock released");
  });
});

test("redirects are followed, and HEAD gives the remote size", async () => {
  await withServer(async (server, dir) => {
    const baseUrl = `http://127.0.0.1:${server.port}/moved/`;
    assert.equal(await remoteSize("base", { baseUrl: server.baseUrl }), SOURCE.length);
    assert.equal(server.seen.at(-1)!.method, "HEAD");
    const result = await downloadCheckpoint("base", { cacheDir: dir, baseUrl });
    assert.ok(sameBytes(result.path, SOURCE), "downloaded through a redirect");
    assert.deepEqual(
      server.seen.slice(-2).map((s) => s.url),
      ["/moved/base.pt", "/files/base.pt"],
    );
  });
});

test("one process at a time: a live lock refuses, a stale one is taken over", async () => {
  await withServer(async (server, dir) => {
    const lock = join(dir, "base.pt.lock");
    writeFileSync(lock, `${process.pid}\n`);
    await rejectsWith(
      downloadCheckpoint("base", { cacheDir: dir, baseUrl: server.baseUrl }),
      "busy",
      new RegExp(`another process \\(pid ${process.pid}\\)`),
    );
    assert.equal(server.seen.length, 0, "nothing fetched while locked");

    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.ok(gone !== undefined && gone > 0, "a finished child's pid");
    writeFileSync(lock, `${gone}\n`);
    const result = await downloadCheckpoint("base", { cacheDir: dir, baseUrl: server.baseUrl });
    assert.equal(result.status, "downloaded");
    assert.ok(!existsSync(lock), "lock released after the download");
  });
});

test("a cache directory that cannot be made: one clear error at once, never a hang", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    writeFileSync(file, "");
    await rejectsWith(
      downloadCheckpoint("base", { cacheDir: join(file, "cache"), baseUrl: "http://127.0.0.1:9/" }),
      "io",
      new RegExp(`^cannot create cache directory .*: ${file.replaceAll("/", "\\/")} is not a directory$`),
    );
    const nested = join(dir, "a", "b", "c");
    await makeDirectory(nested);
    assert.ok(statSync(nested).isDirectory(), "missing parents are made");
    await makeDirectory(nested);
  });
  if (!existsSync("/proc/self")) return;
  // /proc answers ENOENT to a new entry although it exists: fs.mkdir({ recursive: true }) retries forever.
  const refused = downloadCheckpoint("base", { cacheDir: "/proc/glide/cache", baseUrl: "http://127.0.0.1:9/" });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 5 s")), 5000).unref());
  await rejectsWith(
    Promise.race([refused, timeout]),
    "io",
    /^cannot create cache directory \/proc\/glide\/cache: \/proc does not accept new directories$/,
  );
});
