// The web UI's backend when nothing is behind the page: the core runs in a Web Worker of this page
// (web/local/worker.ts) on onnxruntime-web. A run that is aborted rejects at once with an
// AbortError and is cancelled in the worker at its next step; a worker that dies fails every run
// it held with a message, and the next call starts a fresh one.
import type {
  Backend,
  BackendInfo,
  EditInput,
  ImageOptions,
  Progress,
  ResultPicture,
  RunControl,
  RunNote,
} from "../ui/backend.ts";
import { parsePageQuery } from "./backend-choice.ts";
import { abortError, errorFromData, type FromWorker, type Job, type ToWorker } from "./protocol.ts";

export interface LocalBackendOptions {
  /** The worker's script (the build's worker.js). */
  workerUrl: string | URL;
  /** The built folder: the manifest, models and runtime files are found from it. */
  baseUrl: string | URL;
  /** The page URL's query: ?backend=, ?threads=, ?upsample=0 (default: none). */
  search?: string;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: Progress) => void;
}

export class LocalBackend implements Backend {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private cachedInfo: Promise<BackendInfo> | null = null;
  private readonly infoListeners = new Set<(info: BackendInfo) => void>();

  constructor(private readonly options: LocalBackendOptions) {}

  info(): Promise<BackendInfo> {
    this.cachedInfo ??= this.request<BackendInfo>((id) => ({ type: "info", id }));
    this.cachedInfo.catch(() => {
      this.cachedInfo = null;
    });
    return this.cachedInfo;
  }

  /** The worker fell back from WebGPU to WebAssembly: the new info (label), for the page to show. */
  onInfoChange(listener: (info: BackendInfo) => void): () => void {
    this.infoListeners.add(listener);
    return () => this.infoListeners.delete(listener);
  }

  async generate(options: ImageOptions, control: RunControl): Promise<Blob[]> {
    return blobs(await this.pictures({ kind: "generate", caption: options.prompt, options }, options, control));
  }

  async edit(input: EditInput, control: RunControl): Promise<Blob[]> {
    return blobs(await this.pictures({ kind: "edit", caption: input.prompt, options: input }, input, control));
  }

  /** The pictures with their seeds (and their parameters written in). */
  pictures(note: RunNote, input: ImageOptions | EditInput, control: RunControl): Promise<ResultPicture[]> {
    if (note.kind === "variation") return Promise.reject(new Error("this page does not make variations"));
    if (note.kind === "generate") return this.run({ kind: "generate", options: plainOptions(input) }, control);
    const { image, mask, ...options } = input as EditInput;
    return this.run({ kind: "edit", options: plainOptions(options), image, mask }, control);
  }

  private run(job: Job, control: RunControl): Promise<ResultPicture[]> {
    if (control.signal.aborted) return Promise.reject(abortError());
    let id = 0;
    const result = this.request<ResultPicture[]>((assigned) => {
      id = assigned;
      return { type: "run", id, job };
    }, control.onProgress);
    const cancel = () => {
      const pending = this.pending.get(id);
      if (!pending) return;
      this.pending.delete(id);
      this.worker?.postMessage({ type: "cancel", id } satisfies ToWorker);
      pending.reject(abortError());
    };
    control.signal.addEventListener("abort", cancel, { once: true });
    return result.finally(() => control.signal.removeEventListener("abort", cancel));
  }

  private request<T>(message: (id: number) => ToWorker, onProgress?: (progress: Progress) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onProgress });
      this.ensureWorker().postMessage(message(id));
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.workerUrl, { type: "module", name: "glide-ts" });
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.fail(new Error(`the page's worker stopped: ${event.message || "it could not start (see the console)"}`));
    });
    worker.addEventListener("messageerror", () => this.fail(new Error("the page's worker sent an unreadable message")));
    const { request, upsample, notes } = parsePageQuery(this.options.search ?? "");
    const baseUrl = new URL(this.options.baseUrl, globalThis.location?.href).href;
    worker.postMessage({ type: "init", baseUrl, request, upsample, notes } satisfies ToWorker);
    this.worker = worker;
    return worker;
  }

  private receive(message: FromWorker): void {
    if (message.type === "backend") {
      this.cachedInfo = Promise.resolve(message.info);
      for (const listener of this.infoListeners) listener(message.info);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return; // a cancelled run's late messages
    switch (message.type) {
      case "progress":
        pending.onProgress?.(message.progress);
        return;
      case "info":
        this.pending.delete(message.id);
        pending.resolve(message.info);
        return;
      case "done":
        this.pending.delete(message.id);
        pending.resolve(message.pictures);
        return;
      case "failed":
        this.pending.delete(message.id);
        pending.reject(errorFromData(message.error));
        return;
    }
  }

  /** Ends the worker and rejects everything it held. */
  private fail(error: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.cachedInfo = null;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }
}

const blobs = (pictures: ResultPicture[]) => pictures.map((picture) => picture.blob);

/** The options as plain data (the UI may pass extra fields or getters). */
function plainOptions(options: ImageOptions): ImageOptions {
  const { prompt, n, steps, guidance, seed, sampler, upsample } = options;
  return { prompt, n, steps, guidance, seed, sampler, upsample };
}
