// Large static files (model weights, the WebAssembly runtime) fetched once with progress, checked
// against the build's manifest, and kept in Cache Storage: a later visit reads them from there and
// needs no network for them. Without Cache Storage (an insecure origin) they are only fetched.
import type { StaticFile } from "./manifest.ts";
import { versionedUrl } from "./manifest.ts";

export const CACHE_NAME = "glide-ts-web";

/** A file that could not be fetched, or that is not the one the build wrote. */
export class StaticFileError extends Error {
  override name = "StaticFileError";
}

export interface FileProgress {
  loaded: number;
  total: number;
  fromCache: boolean;
}

/** The page's cache, or null where the browser gives none (Cache Storage needs a secure context). */
export async function openFileCache(): Promise<Cache | null> {
  try {
    return typeof caches === "undefined" ? null : await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

/** The bytes of `file`, from the cache or the network; `onProgress` as they arrive. */
export async function fetchStaticFile(
  file: StaticFile,
  base: string | URL,
  cache: Cache | null,
  onProgress: (progress: FileProgress) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const url = versionedUrl(file, base);
  const cached = await cache?.match(url).catch(() => undefined);
  if (cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    if (bytes.length === file.bytes) {
      onProgress({ loaded: bytes.length, total: file.bytes, fromCache: true });
      return bytes;
    }
    await cache?.delete(url); // a partial entry: fetch it again
  }
  const bytes = await download(url, file, onProgress);
  await checkDigest(bytes, file);
  // Storing may fail (quota, private browsing): the page still works, only without the cache.
  await cache
    ?.put(url, new Response(bytes, { headers: { "content-type": "application/octet-stream" } }))
    .catch(() => {});
  await dropOtherVersions(cache, url);
  return bytes;
}

/** Forgets a cached file (one that passed the checks but still failed to load). */
export async function forgetStaticFile(file: StaticFile, base: string | URL, cache: Cache | null): Promise<void> {
  await cache?.delete(versionedUrl(file, base)).catch(() => false);
}

async function download(
  url: URL,
  file: StaticFile,
  onProgress: (progress: FileProgress) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new StaticFileError(`${file.path}: cannot fetch it (${(error as Error).message}); check the connection`);
  }
  if (!response.ok) throw new StaticFileError(`${file.path}: the server answered ${response.status}`);
  const reader = response.body?.getReader();
  if (!reader) throw new StaticFileError(`${file.path}: the response has no body`);
  const bytes = new Uint8Array(file.bytes);
  let loaded = 0;
  onProgress({ loaded, total: file.bytes, fromCache: false });
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new StaticFileError(`${file.path}: the download broke off (${(error as Error).message})`);
    }
    if (chunk.done) break;
    if (loaded + chunk.value.length > file.bytes) {
      await reader.cancel();
      throw new StaticFileError(`${file.path}: longer than the ${file.bytes} bytes the build wrote (another file?)`);
    }
    bytes.set(chunk.value, loaded);
    loaded += chunk.value.length;
    onProgress({ loaded, total: file.bytes, fromCache: false });
  }
  if (loaded !== file.bytes) {
    throw new StaticFileError(`${file.path}: got ${loaded} of its ${file.bytes} bytes (a truncated file?)`);
  }
  return bytes;
}

async function checkDigest(bytes: Uint8Array<ArrayBuffer>, file: StaticFile): Promise<void> {
  // An insecure origin (plain http other than localhost) has no SubtleCrypto: the size check alone.
  if (!globalThis.crypto?.subtle) return;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== file.sha256) {
    throw new StaticFileError(
      `${file.path}: its contents are not the file the build wrote (damaged?); rebuild or re-upload it`,
    );
  }
}

/** Cached copies of the same file from earlier builds (another `?v=`). */
async function dropOtherVersions(cache: Cache | null, url: URL): Promise<void> {
  if (!cache) return;
  for (const request of await cache.keys().catch(() => [] as readonly Request[])) {
    const key = new URL(request.url);
    if (key.pathname === url.pathname && key.search !== url.search) await cache.delete(request).catch(() => false);
  }
}
