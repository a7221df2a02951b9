// Downloads the released GLIDE checkpoints into the cache directory.
//
// A transfer writes `FILE.partial` (with `FILE.partial.json` beside it: the size and validators the
// server announced) and renames it to `FILE` only once every announced byte has arrived and been
// synced, so a file under its final name is always complete. An interrupted transfer resumes with
// an HTTP Range request (guarded by If-Range); a server that ignores Range, or whose file changed,
// starts the transfer over. One process at a time writes a given file (`FILE.lock`).

import { type FileHandle, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { dirname, join } from "node:path";
import { GlideError } from "../errors.ts";
import { makeDirectory } from "../io/directory.ts";
import { recordDigest, verifyRecordedDigest } from "../io/file-digest.ts";
import {
  CHECKPOINT_NAMES,
  CHECKPOINTS,
  type CheckpointName,
  checkpointAliases,
  checkpointNamesText,
  isCheckpointName,
} from "../io/released-files.ts";
import { formatSeconds } from "../util/progress-bar.ts";
import { defaultCacheDir } from "./cache-dir.ts";

export {
  CHECKPOINT_NAMES,
  CHECKPOINTS,
  type CheckpointName,
  checkpointAliases,
  checkpointNamesText,
  isCheckpointName,
} from "../io/released-files.ts";

/** Where OpenAI published the GLIDE (filtered) checkpoints, December 2021. */
export const DEFAULT_BASE_URL = "https://openaipublic.blob.core.windows.net/diffusion/dec-2021/";

export type DownloadErrorCode =
  | "unknown-name"
  | "bad-url"
  | "offline"
  | "http"
  | "interrupted"
  | "aborted"
  | "busy"
  | "io"
  | "not-downloaded"
  | "invalid";

/** A download that could not be done; the message is one line for the user. */
export class DownloadError extends GlideError {
  override name = "DownloadError";
  constructor(
    message: string,
    readonly code: DownloadErrorCode,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** `name` (or an alias) as a checkpoint name, or an error listing the valid ones. */
export function checkCheckpointName(name: string): CheckpointName {
  if (isCheckpointName(name)) return name;
  const aliased = CHECKPOINT_NAMES.find((n) => checkpointAliases(n).includes(name));
  if (aliased) return aliased;
  throw new DownloadError(
    `unknown checkpoint "${name}"; the released checkpoints are ${checkpointNamesText()}`,
    "unknown-name",
  );
}

/** Where checkpoint `name` lives (or will live) in the cache directory. */
export function checkpointPath(name: string, cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, CHECKPOINTS[checkCheckpointName(name)].file);
}

/** The path of a downloaded checkpoint, or an error saying how to download it. */
export async function requireCheckpoint(name: string, cacheDir: string = defaultCacheDir()): Promise<string> {
  const path = checkpointPath(name, cacheDir);
  if (await fileSize(path)) {
    await verifyRecordedDigest(path, `download it again: glide download ${name} --force`);
    return path;
  }
  throw new DownloadError(
    `checkpoint "${name}" is not downloaded (looked for ${path}); run \`glide download ${name}\``,
    "not-downloaded",
  );
}

/** The base URL to download from: an explicit one, else `$GLIDE_DOWNLOAD_BASE_URL`, else OpenAI's. */
export function resolveBaseUrl(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = explicit || env.GLIDE_DOWNLOAD_BASE_URL || DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError(`base URL "${raw}" is not a URL (expected http://… or https://…)`, "bad-url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DownloadError(`base URL "${raw}" must use http or https`, "bad-url");
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url.href;
}

/** The URL of checkpoint `name` under `baseUrl`. */
export function checkpointUrl(name: string, baseUrl?: string): string {
  return new URL(CHECKPOINTS[checkCheckpointName(name)].file, resolveBaseUrl(baseUrl)).href;
}

/** Bytes in decimal units, as download tools show them: `512 B`, `12.3 MB`, `1.54 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

export interface DownloadProgress {
  /** The checkpoint's name, or the other file's (e.g. "clip vocabulary"). */
  name: string;
  /** Bytes in the file so far, including those kept from an earlier run. */
  received: number;
  /** The whole file's size, when the server said it. */
  total: number | undefined;
  /** Bytes that were already there when this transfer started (0 for a fresh one). */
  resumedFrom: number;
}

export interface DownloadOptions {
  cacheDir?: string;
  /** Defaults to `$GLIDE_DOWNLOAD_BASE_URL`, else OpenAI's URL. */
  baseUrl?: string;
  /** Called after every chunk written. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Things worth telling the user: resuming, starting over. */
  onNotice?: (message: string) => void;
  /** Aborting keeps the partial file, so a later call resumes. */
  signal?: AbortSignal;
  /** Download again even when the file is in the cache. */
  force?: boolean;
  /** Give up when the server sends nothing for this long (default 60 s). */
  stallTimeoutMs?: number;
}

export interface DownloadResult {
  name: string;
  path: string;
  /** The file's size. */
  bytes: number;
  /** `cached`: nothing was fetched; `resumed`: an earlier partial file was completed. */
  status: "downloaded" | "resumed" | "cached";
}

/** Downloads checkpoint `name` into the cache directory (see the top of this file for how). */
export async function downloadCheckpoint(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const checked = checkCheckpointName(name);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  return downloadFile(
    { name: checked, url: checkpointUrl(checked, options.baseUrl), path: checkpointPath(checked, cacheDir) },
    options,
  );
}

/** A file to download: its name in messages, where it comes from and where it goes. */
export interface DownloadTarget {
  name: string;
  url: string;
  path: string;
  /**
   * Checks the complete file (at the path given) before it takes its final name; throws a
   * DownloadError when it is not the expected file (it is then deleted, and not resumed).
   */
  verify?: (path: string) => Promise<void>;
}

/** Downloads one file into its place (the same transfer as the checkpoints'); `options.baseUrl` is not used. */
export async function downloadFile(target: DownloadTarget, options: DownloadOptions = {}): Promise<DownloadResult> {
  const { name, path } = target;
  const cached = options.force ? undefined : await fileSize(path);
  if (cached !== undefined) return { name, path, bytes: cached, status: "cached" };

  const dir = dirname(path);
  try {
    await makeDirectory(dir);
  } catch (error) {
    throw new DownloadError(`cannot create cache directory ${dir}: ${errorMessage(error)}`, "io");
  }
  const release = await acquireLock(`${path}.lock`, name);
  try {
    // Another process may have completed the file just before we took the lock.
    const now = options.force ? undefined : await fileSize(path);
    if (now !== undefined) return { name, path, bytes: now, status: "cached" };
    if (options.force) await discardPartial(path);
    return await transfer(target, options);
  } finally {
    await release();
  }
}

export interface CacheEntry {
  name: CheckpointName;
  /** Other names `glide download` accepts for it. */
  aliases: string[];
  file: string;
  path: string;
  status: "cached" | "partial" | "missing";
  /** Bytes on disk (the partial file's, for a partial one). */
  bytes: number | undefined;
  /** The whole size, where known (the cached file's, or what the server announced for a partial). */
  total: number | undefined;
}

/** Which checkpoints are in `cacheDir`, partly or wholly. */
export async function cacheStatus(cacheDir: string = defaultCacheDir()): Promise<CacheEntry[]> {
  return Promise.all(
    CHECKPOINT_NAMES.map(async (name): Promise<CacheEntry> => {
      const path = checkpointPath(name, cacheDir);
      return {
        name,
        aliases: checkpointAliases(name),
        file: CHECKPOINTS[name].file,
        path,
        ...(await fileStatus(path)),
      };
    }),
  );
}

export type FileStatus = Pick<CacheEntry, "status" | "bytes" | "total">;

/** Whether a download's file is at `path`, partly (a `.partial` file) or wholly. */
export async function fileStatus(path: string): Promise<FileStatus> {
  const size = await fileSize(path);
  if (size !== undefined) return { status: "cached", bytes: size, total: size };
  const partial = await fileSize(`${path}.partial`);
  if (partial !== undefined) return { status: "partial", bytes: partial, total: (await readMeta(path))?.total };
  return { status: "missing", bytes: undefined, total: undefined };
}

/** The size of checkpoint `name` on the server (a HEAD request), if the server says it. */
export async function remoteSize(
  name: string,
  options: { baseUrl?: string; signal?: AbortSignal; stallTimeoutMs?: number } = {},
): Promise<number | undefined> {
  const url = checkpointUrl(name, options.baseUrl);
  const res = await get(url, {}, "HEAD", options.signal, options.stallTimeoutMs ?? 60_000);
  res.resume();
  if (res.statusCode !== 200) throw httpError(checkCheckpointName(name), url, res);
  return contentLength(res.headers);
}

// ---------------------------------------------------------------------------------------------
// The transfer

/** What the server said about the file when the partial one was started. */
interface PartialMeta {
  url: string;
  total?: number;
  etag?: string;
  lastModified?: string;
}

async function transfer(target: DownloadTarget, options: DownloadOptions): Promise<DownloadResult> {
  const { name, url, path } = target;
  const partial = `${path}.partial`;
  const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  const notice = options.onNotice ?? (() => {});
  let offset = (await fileSize(partial)) ?? 0;
  let meta = offset > 0 ? await readMeta(path) : undefined;
  if (meta?.total !== undefined && offset > meta.total) {
    notice(`${name}: the partial file is larger than the announced size; starting over`);
    await discardPartial(path);
    offset = 0;
    meta = undefined;
  }

  // At most one restart: a second surprise from the server is an error, not a loop.
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers: Record<string, string> = {};
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      const validator = meta?.etag && !meta.etag.startsWith("W/") ? meta.etag : meta?.lastModified;
      if (validator) headers["if-range"] = validator;
    }
    const res = await get(url, headers, "GET", options.signal, stallTimeoutMs);
    const status = res.statusCode ?? 0;

    if (status === 416 && offset > 0) {
      res.resume();
      const total = unsatisfiedRangeTotal(res.headers) ?? meta?.total;
      if (total === offset) {
        await complete(target, partial);
        return { name, path, bytes: offset, status: "resumed" };
      }
      notice(`${name}: the partial file does not match the server's file; starting over`);
      await discardPartial(path);
      offset = 0;
      meta = undefined;
      continue;
    }

    let total: number | undefined;
    if (status === 206) {
      const range = contentRange(res.headers);
      if (!range || range.start !== offset) {
        res.destroy();
        if (offset === 0) throw new DownloadError(`${name}: unexpected partial content from ${url}`, "http", status);
        notice(`${name}: the server sent a different range than asked for; starting over`);
        await discardPartial(path);
        offset = 0;
        meta = undefined;
        continue;
      }
      total = range.total;
      if (offset > 0) notice(`${name}: resuming at ${formatBytes(offset)}`);
    } else if (status === 200) {
      if (offset > 0) notice(`${name}: the server sent the whole file instead of the rest; starting over`);
      offset = 0;
      total = contentLength(res.headers);
    } else {
      res.resume();
      throw httpError(name, url, res);
    }

    const resumedFrom = offset;
    meta = {
      url,
      total,
      etag: header(res.headers, "etag"),
      lastModified: header(res.headers, "last-modified"),
    };
    await writeFile(`${partial}.json`, `${JSON.stringify(meta)}\n`);
    const file = await open(partial, resumedFrom > 0 ? "a" : "w");
    let received = resumedFrom;
    try {
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          try {
            await file.write(chunk);
          } catch (error) {
            throw new DownloadError(`cannot write ${partial}: ${errorMessage(error)}`, "io");
          }
          received += chunk.length;
          options.onProgress?.({ name, received, total, resumedFrom });
        }
      } catch (error) {
        if (error instanceof DownloadError) throw error;
        if (options.signal?.aborted) {
          throw new DownloadError(
            `download of ${name} stopped at ${progressText(received, total)}; run again to resume`,
            "aborted",
          );
        }
        const { reason } = networkReason(error);
        throw new DownloadError(
          `download of ${name} interrupted at ${progressText(received, total)} (${reason}, ${new URL(url).host}); run again to resume`,
          "interrupted",
        );
      }
      if (total !== undefined && received !== total) {
        throw new DownloadError(
          `download of ${name} interrupted at ${progressText(received, total)} (the server ended the transfer); run again to resume`,
          "interrupted",
        );
      }
      await file.sync();
    } finally {
      await closeQuietly(file);
    }
    await complete(target, partial);
    return { name, path, bytes: received, status: resumedFrom > 0 ? "resumed" : "downloaded" };
  }
  throw new DownloadError(`${name}: the server's answers to range requests are inconsistent; try --force`, "http");
}

/** Verifies a complete partial file (a wrong one is deleted), then gives it its final name. */
async function complete(target: DownloadTarget, partial: string): Promise<void> {
  if (target.verify) {
    try {
      await target.verify(partial);
    } catch (error) {
      await discardPartial(target.path);
      throw error;
    }
  }
  await finish(partial, target.path);
  // A file without a known digest of its own (a checkpoint) gets the one it arrived with, which
  // loading checks from then on.
  if (!target.verify) await recordDigest(target.path);
}

/** Moves a complete partial file to its final name (synced), and drops the metadata beside it. */
async function finish(partial: string, path: string): Promise<void> {
  const file = await open(partial, "r+");
  try {
    await file.sync();
  } finally {
    await closeQuietly(file);
  }
  await rename(partial, path);
  await unlink(`${partial}.json`).catch(() => {});
  await syncDirectory(dirname(path));
}

async function discardPartial(path: string): Promise<void> {
  await unlink(`${path}.partial`).catch(() => {});
  await unlink(`${path}.partial.json`).catch(() => {});
}

async function readMeta(path: string): Promise<PartialMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(`${path}.partial.json`, "utf-8")) as PartialMeta;
    return typeof meta === "object" && meta !== null ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Makes a rename durable: on Linux a directory can be fsynced; elsewhere this may fail harmlessly. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await closeQuietly(handle);
    }
  } catch {
    // Not supported on this platform.
  }
}

async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.close().catch(() => {});
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `lockPath` for this process; a lock left by a process that no longer runs is taken over.
 * Returns the function that releases it.
 */
async function acquireLock(lockPath: string, name: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      try {
        await handle.write(`${process.pid}\n`);
      } finally {
        await closeQuietly(handle);
      }
      return () => unlink(lockPath).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new DownloadError(`cannot write in ${dirname(lockPath)}: ${errorMessage(error)}`, "io");
      }
    }
    const owner = await lockOwner(lockPath);
    if (owner !== "stale") {
      throw new DownloadError(
        `${name} is being downloaded by another process${owner ? ` (pid ${owner})` : ""}; if none is, delete ${lockPath}`,
        "busy",
      );
    }
    await unlink(lockPath).catch(() => {});
  }
  throw new DownloadError(`could not take the lock ${lockPath}`, "busy");
}

/** The pid holding a lock, `"stale"` when that process is gone, or undefined when unknown. */
async function lockOwner(lockPath: string): Promise<number | "stale" | undefined> {
  let text: string;
  let age: number;
  try {
    text = await readFile(lockPath, "utf-8");
    age = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch {
    return "stale"; // released meanwhile
  }
  const pid = Number.parseInt(text, 10);
  // An empty lock is one being written right now, unless it is old (its writer died).
  if (!Number.isInteger(pid) || pid <= 0) return age > 10_000 ? "stale" : undefined;
  if (pid === process.pid) return pid;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH" ? "stale" : pid;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** A GET or HEAD request that follows redirects; network failures become one-line errors. */
async function get(
  url: string,
  headers: Record<string, string>,
  method: "GET" | "HEAD",
  signal: AbortSignal | undefined,
  stallTimeoutMs: number,
): Promise<IncomingMessage> {
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const res = await requestOnce(current, headers, method, signal, stallTimeoutMs);
    const location = header(res.headers, "location");
    if (!location || ![301, 302, 303, 307, 308].includes(res.statusCode ?? 0)) return res;
    res.resume();
    if (redirects >= 5) throw new DownloadError(`too many redirects from ${url}`, "http", res.statusCode);
    current = new URL(location, current);
    if (current.protocol !== "http:" && current.protocol !== "https:") {
      throw new DownloadError(`${url} redirects to unsupported ${current.href}`, "http", res.statusCode);
    }
  }
}

function requestOnce(
  url: URL,
  headers: Record<string, string>,
  method: "GET" | "HEAD",
  signal: AbortSignal | undefined,
  stallTimeoutMs: number,
): Promise<IncomingMessage> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) {
      reject(new DownloadError(`download from ${url.host} was stopped`, "aborted"));
      return;
    }
    const req = request(url, {
      method,
      headers: { "user-agent": "glide-ts", "accept-encoding": "identity", ...headers },
      signal,
    });
    // The socket timeout covers connecting, waiting for the answer, and every pause in the body.
    let response: IncomingMessage | undefined;
    req.setTimeout(stallTimeoutMs, () => {
      const error = Object.assign(new Error(`no data for ${formatSeconds(stallTimeoutMs / 1000)}`), {
        code: "ETIMEDOUT",
      });
      response?.destroy(error);
      req.destroy(error);
    });
    req.once("response", (res) => {
      response = res;
      resolvePromise(res);
    });
    req.once("error", (error) => {
      if (signal?.aborted) reject(new DownloadError(`download from ${url.host} was stopped`, "aborted"));
      else reject(new DownloadError(unreachable(error, url.host), "offline"));
    });
    req.end();
  });
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "name lookup failed",
  ETIMEDOUT: "timed out",
  ENETUNREACH: "network unreachable",
  EHOSTUNREACH: "host unreachable",
  EPIPE: "connection closed",
};

/** A network failure in a few words: `connection refused`, `no data for 60 s`, … */
function networkReason(error: unknown): { reason: string; network: boolean } {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const message = errorMessage(error);
  if (code === "ETIMEDOUT" && message.startsWith("no data")) return { reason: message, network: true };
  if (message === "aborted" || code === "ERR_STREAM_PREMATURE_CLOSE") {
    return { reason: "connection closed early", network: true };
  }
  const reason = NETWORK_REASONS[code];
  return reason ? { reason, network: true } : { reason: message, network: false };
}

/** `could not reach HOST: connection refused (are you offline?)`, and the like. */
function unreachable(error: unknown, host: string): string {
  const { reason, network } = networkReason(error);
  return `could not reach ${host}: ${reason}${network ? " (are you offline?)" : ""}`;
}

function httpError(name: string, url: string, res: IncomingMessage): DownloadError {
  const status = res.statusCode ?? 0;
  const text = res.statusMessage ? ` ${res.statusMessage}` : "";
  return new DownloadError(`could not download ${name}: HTTP ${status}${text} from ${url}`, "http", status);
}

function header(headers: IncomingHttpHeaders, key: string): string | undefined {
  const value = headers[key];
  return Array.isArray(value) ? value[0] : value;
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = header(headers, "content-length");
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`). */
function contentRange(headers: IncomingHttpHeaders): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(headers, "content-range")?.trim() ?? "");
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === "*" ? undefined : Number(match[3]) };
}

/** `Content-Range: bytes * /TOTAL` of a 416 answer. */
function unsatisfiedRangeTotal(headers: IncomingHttpHeaders): number | undefined {
  const match = /^bytes \*\/(\d+)$/.exec(header(headers, "content-range")?.trim() ?? "");
  return match ? Number(match[1]) : undefined;
}

function progressText(received: number, total: number | undefined): string {
  return total === undefined ? formatBytes(received) : `${formatBytes(received)} of ${formatBytes(total)}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
