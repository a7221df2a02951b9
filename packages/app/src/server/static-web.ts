// `glide serve --web`: the in-browser page that `npm run build:web` writes, served as static files
// with the headers that make it cross-origin isolated (COOP same-origin, COEP require-corp), so
// onnxruntime-web gets SharedArrayBuffer and WebAssembly threads. No model runs here: the page
// fetches the weights and runs them itself.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { GlideError } from "glide-ts";
import { listenError } from "./port-in-use.ts";

/** Where `npm run build:web` writes the page (the repository's, or the installed package's, dist/). */
export function defaultWebDir(): string {
  return fileURLToPath(new URL("../../dist/web-local/", import.meta.url));
}

const MIME_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
};

/** Cross-origin isolation, and nothing of ours embeddable by other origins. */
export const ISOLATION_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
} as const;

export interface StaticWebOptions {
  /** The built folder (default: defaultWebDir()). */
  dir?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
}

export interface StaticWebServer {
  /** http://host:port, the port the server got. */
  url: string;
  dir: string;
  close(): Promise<void>;
}

export async function serveStaticWeb(options: StaticWebOptions = {}): Promise<StaticWebServer> {
  const dir = resolve(options.dir ?? defaultWebDir());
  const index = await stat(join(dir, "index.html")).catch(() => null);
  if (!index?.isFile()) {
    throw new GlideError(`${dir} holds no built page (index.html): run \`npm run build:web\` first`);
  }
  const server = createServer((request, response) => {
    respond(dir, request, response).catch(() => {
      if (!response.headersSent) send(response, 500, "internal error");
      else response.destroy();
    });
  });
  const port = options.port ?? 8000;
  await new Promise<void>((ready, fail) => {
    server.once("error", (error) => fail(listenError(error, port)));
    server.listen(port, options.host ?? "127.0.0.1", () => ready());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${bound}`,
    dir,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...ISOLATION_HEADERS, "content-type": "text/plain; charset=utf-8", ...headers });
  response.end(`${text}\n`);
}

/** The file a request path names inside `dir`, or null when it would leave it (or is malformed). */
export function filePathFor(dir: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split("?")[0]!.split("#")[0]!);
  } catch {
    return null;
  }
  if (path.includes("\0") || !path.startsWith("/")) return null;
  // Every segment is checked before joining: "..", and backslashes (a separator on Windows), never pass.
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === ".." || s.includes("\\"))) return null;
  const file = join(dir, ...segments);
  return file === dir || file.startsWith(dir + sep) ? file : null;
}

async function respond(dir: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    send(response, 405, "only GET and HEAD", { allow: "GET, HEAD" });
    return;
  }
  let file = filePathFor(dir, request.url ?? "/");
  if (!file) {
    send(response, 400, "bad path");
    return;
  }
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    file = join(file, "index.html");
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) {
    send(response, 404, "not found");
    return;
  }
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = {
    ...ISOLATION_HEADERS,
    "content-type": MIME_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    "x-content-type-options": "nosniff",
    // Revalidate every time (cheap with the ETag): a rebuilt page is never mixed with an old bundle.
    "cache-control": "no-cache",
    etag,
  };
  if (request.headers["if-none-match"] === etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  response.writeHead(200, { ...headers, "content-length": String(info.size) });
  if (request.method === "HEAD") {
    response.end();
    return;
  }
  createReadStream(file)
    .on("error", () => response.destroy())
    .pipe(response);
}
