// What the built folder holds besides code: the shipped model files and onnxruntime-web's
// WebAssembly binary, each with its size and SHA-256, written by scripts/build-web.ts as
// manifest.json. The worker checks every download against it, so a truncated or damaged file is
// reported (and never cached) instead of failing somewhere inside the model.

export const MANIFEST_FILE = "manifest.json";

export interface StaticFile {
  /** Relative to the page's folder, e.g. "models/glide-ts-base32.safetensors". */
  path: string;
  bytes: number;
  /** Lower-case hex. */
  sha256: string;
}

export interface WebManifest {
  /** The text-to-image model (also used for editing). */
  base: StaticFile;
  upsampler: StaticFile;
  /** onnxruntime-web's .wasm binary, and the .mjs module that loads it (also its threads' script). */
  runtime: StaticFile;
  runtimeModule: string;
  /** The base model's recommended sampling (its `sampling` metadata; absent in older builds). */
  baseSampling?: { sampler: string; steps: number; guidance: number } | null;
}

/**
 * The URL a file is fetched and cached under: its content hash in the query, so a rebuilt folder
 * with new weights is never answered from an old cache entry (static hosts ignore the query).
 */
export function versionedUrl(file: StaticFile, base: string | URL): URL {
  const url = new URL(file.path, base);
  url.searchParams.set("v", file.sha256.slice(0, 16));
  return url;
}

/** Throws unless `value` has the shape of a manifest (it may come from an old or foreign build). */
export function checkManifest(value: unknown): WebManifest {
  const isFile = (f: unknown): f is StaticFile =>
    typeof f === "object" &&
    f !== null &&
    typeof (f as StaticFile).path === "string" &&
    Number.isInteger((f as StaticFile).bytes) &&
    /^[0-9a-f]{64}$/.test((f as StaticFile).sha256);
  const m = value as WebManifest;
  if (!m || !isFile(m.base) || !isFile(m.upsampler) || !isFile(m.runtime) || typeof m.runtimeModule !== "string") {
    throw new Error(`${MANIFEST_FILE} does not describe the model and runtime files: rebuild with npm run build:web`);
  }
  return m;
}
