// The Web Worker of the in-browser page: it loads the models (cached), sets onnxruntime-web up for
// the chosen backend and runs the page's requests one after another, posting progress, previews
// and results back. The page thread never runs a model, so it stays responsive.
import { CancelledError, DEFAULT_EDIT_GUIDANCE, DEFAULT_GUIDANCE, SAMPLER_NAMES, samplingFormDefaults } from "glide-ts";
import type { BackendInfo, Progress, ResultPicture } from "../ui/backend.ts";
import { type BackendChoice, chooseBackend, describeBackend } from "./backend-choice.ts";
import { type LocalModels, loadLocalModels, loadManifest } from "./local-models.ts";
import { errorData, type FromWorker, type Job, type ToWorker } from "./protocol.ts";
import { runJob } from "./run-job.ts";
import { configureRuntime, webGpuAdapterKind } from "./runtime-setup.ts";
import { runWithWasmFallback } from "./webgpu-fallback.ts";
import { yieldBetweenRuns } from "./yielding-engine.ts";

/** The worker's global scope, as much of it as is used (the DOM lib types `self` as a Window). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
  crossOriginIsolated: boolean;
  navigator: { hardwareConcurrency: number };
}
const scope = globalThis as unknown as WorkerScope;

const MAX_IMAGES = 4;
/** The shipped models' sides: the base model's, and the upsampler's. */
const BASE_SIZE = 32;
const UPSAMPLED_SIZE = 128;

let settings: Extract<ToWorker, { type: "init" }> | null = null;
let choice: Promise<BackendChoice> | null = null;
let models: Promise<LocalModels> | null = null;
/** Where model-loading progress goes: the job waiting for the models. */
let reportLoading: (stage: string, fraction?: number) => void = () => {};
const runs = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

yieldBetweenRuns();

function post(message: FromWorker): void {
  scope.postMessage(message);
}

function backendChoice(): Promise<BackendChoice> {
  if (!settings) throw new Error("the worker was not initialised");
  const { request, notes } = settings;
  choice ??= webGpuAdapterKind().then((webgpu) => {
    const env = {
      crossOriginIsolated: scope.crossOriginIsolated,
      hardwareConcurrency: scope.navigator.hardwareConcurrency || 1,
      webgpu,
    };
    const chosen = chooseBackend(request, env);
    return { ...chosen, notes: [...notes, ...chosen.notes] };
  });
  return choice;
}

async function info(): Promise<BackendInfo> {
  const chosen = await backendChoice();
  const upsample = settings?.upsample ?? true;
  const notes = [...(upsample ? [] : [`${BASE_SIZE}×${BASE_SIZE}, no upsampler`]), ...chosen.notes];
  return {
    label: `in this browser · ${describeBackend(chosen)}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`,
    samplers: SAMPLER_NAMES,
    // The base model's recommended sampling, from the build's manifest (the pipelines' own if absent).
    ...samplingFormDefaults(await recommendedSampling(), { text: DEFAULT_GUIDANCE, edit: DEFAULT_EDIT_GUIDANCE }),
    maxImages: MAX_IMAGES,
    imageSize: upsample ? UPSAMPLED_SIZE : BASE_SIZE,
    ...(upsample ? { baseImageSize: BASE_SIZE } : {}),
    canEdit: true,
  };
}

/** The base model's recommended sampling as the manifest records it; null when absent or unreadable. */
async function recommendedSampling() {
  if (!settings) return null;
  return (await loadManifest(settings.baseUrl).catch(() => null))?.baseSampling ?? null;
}

/** The models, loaded once (a failed load is tried again by the next request). */
function loadedModels(): Promise<LocalModels> {
  if (!settings) throw new Error("the worker was not initialised");
  const baseUrl = settings.baseUrl;
  models ??= (async () => {
    const chosen = await backendChoice();
    const loaded = await loadLocalModels(baseUrl, (stage, fraction) => reportLoading(stage, fraction));
    const module = new URL(loaded.manifest.runtimeModule, baseUrl).href;
    configureRuntime(chosen, { module, binary: loaded.runtimeBinary });
    return loaded;
  })();
  models.catch(() => {
    models = null;
  });
  return models;
}

function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new CancelledError("the run was cancelled"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

async function execute(id: number, job: Job, signal: AbortSignal): Promise<ResultPicture[]> {
  const onProgress = (progress: Progress) => {
    if (!signal.aborted) post({ type: "progress", id, progress });
  };
  reportLoading = (stage, fraction) =>
    onProgress({ step: 0, total: 0, stage, ...(fraction === undefined ? {} : { fraction }) });
  const loaded = await Promise.race([loadedModels(), whenAborted(signal)]);
  reportLoading = () => {};
  const chosen = await backendChoice();
  const upsample = settings?.upsample ?? true;
  const context = (c: BackendChoice) => ({
    models: loaded,
    upsample,
    session: { executionProvider: c.kind },
    signal,
    onProgress,
  });
  return runWithWasmFallback(chosen, (c) => runJob(job, context(c)), {
    signal,
    onFallback: (wasm, note) => {
      choice = Promise.resolve(wasm);
      onProgress({ step: 0, total: 0, stage: note });
      // The page's label follows: it now runs on WebAssembly, and says why.
      info().then((changed) => post({ type: "backend", info: changed }));
    },
  });
}

function run(id: number, job: Job): void {
  const controller = new AbortController();
  runs.set(id, controller);
  queue = queue.then(async () => {
    try {
      const pictures = await execute(id, job, controller.signal);
      post({ type: "done", id, pictures });
    } catch (error) {
      post({ type: "failed", id, error: errorData(error) });
    } finally {
      runs.delete(id);
    }
  });
}

scope.addEventListener("message", (event) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      settings = message;
      break;
    case "info":
      info().then(
        (result) => post({ type: "info", id: message.id, info: result }),
        (error) => post({ type: "failed", id: message.id, error: errorData(error) }),
      );
      break;
    case "run":
      run(message.id, message.job);
      break;
    case "cancel":
      runs.get(message.id)?.abort();
      break;
  }
});
