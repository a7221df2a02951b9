// The web UI at /: index.html, its script and its style sheet, served from memory. An installed
// package serves the files `npm run build` wrote to dist/web (esbuild is a devDependency, absent
// there); a checkout bundles web/server-entry.ts with esbuild when the server starts. Only the
// known file names are routes, so there is no directory listing and no path to traverse.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { PUBLIC_ROUTE } from "./public-route.ts";

/** dist/web beside dist/server in a build; src/web (absent) in a checkout. */
const PREBUILT_DIR = fileURLToPath(new URL("../web/", import.meta.url));
/** The checkout's web/ folder: index.html and the entry the server's UI is bundled from. */
const SOURCE_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

// The page may load and call only its own origin; previews and results are blob: URLs.
const PAGE_POLICY =
  "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** A bundle's files by name: index.html and the content-hashed script and style sheet it links. */
export type WebUiFiles = Map<string, Uint8Array>;

/** Bundles the server's UI (needs esbuild: a checkout, or `npm run build`). */
export async function bundleWebUi(): Promise<WebUiFiles> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: { app: join(SOURCE_DIR, "server-entry.ts") },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    // The page imports a few of the core's modules (`glide-ts`): from their sources in a checkout.
    conditions: ["glide-ts-source"],
    minify: true,
    write: false,
    outdir: "/ui",
    entryNames: "[name]-[hash]",
    legalComments: "none",
    logLevel: "silent",
  });
  const files: WebUiFiles = new Map();
  let html = await readFile(join(SOURCE_DIR, "index.html"), "utf8");
  for (const output of result.outputFiles) {
    const name = basename(output.path);
    const placeholder = `app${extname(name)}`;
    if (!html.includes(`"${placeholder}"`)) throw new Error(`web/index.html does not link ${placeholder}`);
    html = html.replace(`"${placeholder}"`, `"${name}"`);
    files.set(name, output.contents);
  }
  files.set("index.html", new TextEncoder().encode(html));
  return files;
}

/** Writes a bundle into `dir` (what `npm run build` ships as dist/web). */
export async function writeWebUi(dir: string, files: WebUiFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  // An earlier build's script and style sheet (other hashes) would be served too: removed.
  for (const stale of await readdir(dir)) {
    if (/^app-.*\.(js|css)$/.test(stale) && !files.has(stale)) await rm(join(dir, stale));
  }
  for (const [name, bytes] of files) {
    const temporary = join(dir, `.${name}.tmp`);
    await writeFile(temporary, bytes);
    await rename(temporary, join(dir, name));
  }
}

async function readPrebuilt(dir: string): Promise<WebUiFiles> {
  const files: WebUiFiles = new Map();
  for (const name of await readdir(dir)) {
    if (name.startsWith(".") || !(extname(name) in CONTENT_TYPES)) continue;
    files.set(name, new Uint8Array(await readFile(join(dir, name))));
  }
  return files;
}

let loaded: Promise<WebUiFiles> | null = null;

/** The UI's files: the prebuilt ones when there are, else bundled now (once per process). */
export function webUiFiles(): Promise<WebUiFiles> {
  loaded ??= existsSync(join(PREBUILT_DIR, "index.html")) ? readPrebuilt(PREBUILT_DIR) : bundleWebUi();
  return loaded;
}

/** Routes / (and each file of the bundle); without a bundle, / says why and the API works on. */
export async function registerWebUi(app: FastifyInstance, log: (message: string) => void): Promise<void> {
  let files: WebUiFiles;
  try {
    files = await webUiFiles();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`the web UI is not served: ${reason}`);
    app.get("/", PUBLIC_ROUTE, (_request, reply) =>
      reply.code(503).type("text/plain; charset=utf-8").send(`The web UI is not available: ${reason}\n`),
    );
    return;
  }
  for (const [name, bytes] of files) {
    const body = Buffer.from(bytes);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    const isPage = name === "index.html";
    const headers: Record<string, string> = {
      "content-type": CONTENT_TYPES[extname(name)]!,
      // The page is checked each time; the other names carry their content's hash.
      "cache-control": isPage ? "no-cache" : "public, max-age=31536000, immutable",
      etag,
      "x-content-type-options": "nosniff",
      ...(isPage ? { "content-security-policy": PAGE_POLICY, "referrer-policy": "no-referrer" } : {}),
    };
    const paths = isPage ? ["/", "/index.html"] : [`/${name}`];
    for (const path of paths) {
      app.get(path, PUBLIC_ROUTE, (request, reply) => {
        reply.headers(headers);
        if (request.headers["if-none-match"] === etag) return reply.code(304).send();
        return reply.send(body);
      });
    }
  }
}
