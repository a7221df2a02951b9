// `npm run build:web`: the in-browser page as a static folder (default dist/web-local/). It holds the
// page, the bundled page script and Web Worker (esbuild), onnxruntime-web's .mjs/.wasm runtime, the
// shipped model files, and manifest.json (each large file's size and SHA-256, for the worker to
// check downloads against). Any static host serves it; threads need COOP/COEP (`glide serve --web`).
//
//   npm run build:web -- [--out DIR] [--no-minify]
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build, type Metafile } from "esbuild";
import { MANIFEST_FILE, type StaticFile, type WebManifest } from "../packages/app/web/local/manifest.ts";
import { readSafetensors } from "../packages/glide-ts/src/io/safetensors.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const APP = join(root, "packages", "app");
const SHIPPED_MODELS = join(root, "packages", "glide-ts", "models");
export const DEFAULT_WEB_OUT = join(APP, "dist", "web-local");

/** The runtime the default `onnxruntime-web` entry loads: WebAssembly and WebGPU (JSEP) in one binary. */
const ORT_DIST = join(root, "node_modules", "onnxruntime-web", "dist");
const ORT_FILES = { module: "ort-wasm-simd-threaded.jsep.mjs", binary: "ort-wasm-simd-threaded.jsep.wasm" };
const MODELS = { base: "glide-ts-base32.safetensors", upsampler: "glide-ts-upsample128.safetensors" };

export interface WebBuild {
  outDir: string;
  /** esbuild's record of every module in the page script and the worker. */
  metafile: Metafile;
  manifest: WebManifest;
  /** Every file written, relative to outDir, with its size. */
  files: { path: string; bytes: number }[];
}

export interface WebBuildOptions {
  outDir?: string;
  /** Default true. */
  minify?: boolean;
}

export async function buildWeb(options: WebBuildOptions = {}): Promise<WebBuild> {
  const outDir = resolve(options.outDir ?? DEFAULT_WEB_OUT);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, "ort"), { recursive: true });
  await mkdir(join(outDir, "models"), { recursive: true });

  const bundled = await build({
    absWorkingDir: root,
    // "app": the names web/index.html links (app.js, and app.css from the UI's style sheet).
    entryPoints: { app: "packages/app/web/local-entry.ts", worker: "packages/app/web/local/worker.ts" },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    // onnxruntime-web's entry that imports its .mjs runtime from env.wasm.wasmPaths at run time,
    // rather than a copy inlined in the bundle: its WebAssembly threads start from that file.
    // glide-ts-source: the workspace's `glide-ts` from its TypeScript sources (its browser entry).
    conditions: ["onnxruntime-web-use-extern-wasm", "glide-ts-source"],
    outdir: outDir,
    minify: options.minify ?? true,
    sourcemap: "linked",
    metafile: true,
    legalComments: "none",
    logLevel: "silent",
  });

  const copy = async (from: string, to: string): Promise<StaticFile> => {
    await copyFile(from, join(outDir, to));
    const bytes = await readFile(from);
    return { path: to, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  };
  const runtimeModule = `ort/${ORT_FILES.module}`;
  await copy(join(ORT_DIST, ORT_FILES.module), runtimeModule);
  const manifest: WebManifest = {
    base: await copy(join(SHIPPED_MODELS, MODELS.base), `models/${MODELS.base}`),
    upsampler: await copy(join(SHIPPED_MODELS, MODELS.upsampler), `models/${MODELS.upsampler}`),
    runtime: await copy(join(ORT_DIST, ORT_FILES.binary), `ort/${ORT_FILES.binary}`),
    runtimeModule,
    baseSampling: await recommendedSampling(join(SHIPPED_MODELS, MODELS.base)),
  };
  await writeFile(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await copyFile(join(APP, "web", "index.html"), join(outDir, "index.html"));
  await copyFile(join(SHIPPED_MODELS, "README.md"), join(outDir, "models", "README.md"));

  const written = [
    ...Object.keys(bundled.metafile.outputs).map((p) => relative(outDir, resolve(root, p))),
    runtimeModule,
    manifest.base.path,
    manifest.upsampler.path,
    manifest.runtime.path,
    MANIFEST_FILE,
    "index.html",
    "models/README.md",
  ];
  const files = await Promise.all(
    written.map(async (path) => ({ path, bytes: (await stat(join(outDir, path))).size })),
  );
  return { outDir, metafile: bundled.metafile, manifest, files };
}

/** The model's `sampling` metadata (what `glide convert --sampler …` recorded), or null. */
async function recommendedSampling(path: string): Promise<WebManifest["baseSampling"]> {
  const text = (await readSafetensors(path)).metadata.sampling;
  return text === undefined ? null : JSON.parse(text);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: "string" }, "no-minify": { type: "boolean", default: false } },
  });
  const started = performance.now();
  const result = await buildWeb({ outDir: values.out, minify: !values["no-minify"] });
  const total = result.files.reduce((sum, f) => sum + f.bytes, 0);
  for (const f of result.files) {
    process.stdout.write(`  ${f.path.padEnd(48)} ${(f.bytes / 1e6).toFixed(2).padStart(7)} MB\n`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `build:web: ${result.outDir} (${(total / 1e6).toFixed(0)} MB) in ${seconds} s; serve it with \`glide serve --web\`\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
