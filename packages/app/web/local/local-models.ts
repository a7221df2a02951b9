// The worker's models: the build's manifest, then the runtime binary and both model files (cached,
// with one progress figure over all their bytes), then the GLIDE networks built from the weights.
import { type GlideModel, loadModel } from "glide-ts";
import {
  type FileProgress,
  fetchStaticFile,
  forgetStaticFile,
  openFileCache,
  StaticFileError,
} from "./cached-fetch.ts";
import { checkManifest, MANIFEST_FILE, type StaticFile, type WebManifest } from "./manifest.ts";

export interface LocalModels {
  manifest: WebManifest;
  base: GlideModel;
  upsampler: GlideModel;
  /** onnxruntime-web's .wasm, for env.wasm.wasmBinary (so it, too, comes from the cache). */
  runtimeBinary: Uint8Array<ArrayBuffer>;
}

/** "loading the model 40% (31 of 76 MB)", or where the bytes come from. */
export type StageReporter = (stage: string, fraction?: number) => void;

const MB = 1e6;

export async function loadLocalModels(baseUrl: string, report: StageReporter): Promise<LocalModels> {
  const cache = await openFileCache();
  const manifest = await fetchManifest(baseUrl, cache);
  const files = [manifest.runtime, manifest.base, manifest.upsampler];
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const loaded = files.map(() => 0);
  const cached = files.map(() => false);
  let lastPercent = -1;
  const onProgress = (index: number) => (progress: FileProgress) => {
    loaded[index] = progress.loaded;
    cached[index] = progress.fromCache;
    const sum = loaded.reduce((a, b) => a + b, 0);
    const percent = Math.floor((100 * sum) / total);
    if (percent === lastPercent) return;
    lastPercent = percent;
    const from = cached.every(Boolean) ? " from this browser's cache" : "";
    const stage = `loading the model ${percent}% (${(sum / MB).toFixed(0)} of ${(total / MB).toFixed(0)} MB${from})`;
    report(stage, sum / total);
  };
  const [runtimeBinary, baseBytes, upsamplerBytes] = await Promise.all(
    files.map((file, i) => fetchStaticFile(file, baseUrl, cache, onProgress(i))),
  );
  report("preparing the model");
  const base = await buildModel(manifest.base, baseBytes!, baseUrl, cache);
  const upsampler = await buildModel(manifest.upsampler, upsamplerBytes!, baseUrl, cache);
  return { manifest, base, upsampler, runtimeBinary: runtimeBinary! };
}

/** The build's manifest alone (what the page's form needs before any model is loaded). */
export async function loadManifest(baseUrl: string): Promise<WebManifest> {
  return fetchManifest(baseUrl, await openFileCache());
}

/** The manifest from the network (a rebuilt folder is seen at once), else the cached copy (offline). */
async function fetchManifest(baseUrl: string, cache: Cache | null): Promise<WebManifest> {
  const url = new URL(MANIFEST_FILE, baseUrl);
  let response = await fetch(url, { cache: "no-cache" }).catch(() => null);
  if (response?.ok) {
    await cache?.put(url, response.clone()).catch(() => {});
  } else {
    response = (await cache?.match(url).catch(() => undefined)) ?? response;
  }
  if (!response?.ok) {
    const why = response ? `the server answered ${response.status}` : "the network is unreachable";
    throw new StaticFileError(`${MANIFEST_FILE}: cannot fetch it (${why}) and no copy is cached`);
  }
  let value: unknown;
  try {
    value = await response.json();
  } catch {
    throw new StaticFileError(`${MANIFEST_FILE}: not JSON: rebuild the page with npm run build:web`);
  }
  return checkManifest(value);
}

async function buildModel(
  file: StaticFile,
  bytes: Uint8Array,
  baseUrl: string,
  cache: Cache | null,
): Promise<GlideModel> {
  try {
    return (await loadModel({ checkpoint: bytes, label: file.path })).model;
  } catch (error) {
    await forgetStaticFile(file, baseUrl, cache);
    throw new StaticFileError(`${file.path}: cannot load it as a GLIDE model (${(error as Error).message})`);
  }
}
