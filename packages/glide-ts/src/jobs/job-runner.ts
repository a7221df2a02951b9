// Runs pipelines in a worker thread that keeps the models and their onnxruntime sessions loaded, so
// the caller's event loop stays free (a session's run blocks the thread it is called on). Jobs
// report progress (with previews), can be cancelled with an AbortSignal, and reject with errors of
// the same class they were thrown with in the worker.
import type { Worker } from "node:worker_threads";
import { CancelledError, GlideError } from "../errors.ts";
import { GlideConfigError } from "../glide/config.ts";
import { ImageError } from "../image/errors.ts";
import { CheckpointError } from "../io/errors.ts";
import { PipelineError } from "../pipelines/errors.ts";
import type { ModelSource } from "../pipelines/load-model.ts";
import type { PipelineResult, ProgressEvent } from "../pipelines/types.ts";
import { DeviceError } from "../runtime/device.ts";
import { DeviceMemoryError } from "../runtime/device-memory.ts";
import { startWorker } from "../runtime/worker.ts";
import type { FromWorker, JobRequest, LoadedModelInfo, SerializedError, ToWorker } from "./protocol.ts";

/** The error classes a job can fail with, by name; anything else arrives as a plain Error. */
const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  GlideError,
  CancelledError,
  PipelineError,
  ImageError,
  CheckpointError,
  StateDictMismatchError: CheckpointError,
  GlideConfigError,
  DeviceError,
  DeviceMemoryError,
};

/** A worker's error as an error of the same class here (a plain Error with its name when unknown). */
export function revive(error: SerializedError): Error {
  const revived =
    error.name === "PipelineError"
      ? new PipelineError(error.message, error.option ?? null)
      : new (ERROR_CLASSES[error.name] ?? Error)(error.message);
  if (!(error.name in ERROR_CLASSES)) revived.name = error.name;
  // The worker's stack says where it failed; keep it below this thread's.
  if (error.stack) revived.stack = `${revived.stack}\n    --- in the job worker ---\n${error.stack}`;
  return revived;
}

export interface JobOptions {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (event: ProgressEvent) => void;
}

const ENTRY = new URL(`./job-worker.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);

export class JobRunner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: FromWorker) => this.receive(message));
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`the job worker exited (code ${code})`)));
  }

  /** Starts the worker thread. */
  static start(): JobRunner {
    return new JobRunner(startWorker(ENTRY, null));
  }

  /** Loads a model in the worker under `key` (replacing one loaded under it before). */
  load(key: string, source: ModelSource): Promise<LoadedModelInfo> {
    return this.request<LoadedModelInfo>((id) => ({ type: "load", id, key, source }));
  }

  unload(key: string): Promise<void> {
    return this.request<void>((id) => ({ type: "unload", id, key }));
  }

  /** Runs a pipeline on models loaded before; resolves with its result. */
  run(request: JobRequest, options: JobOptions = {}): Promise<PipelineResult> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new CancelledError("the job was cancelled before it started"));
    let id = 0;
    const result = this.request<PipelineResult>((assigned) => {
      id = assigned;
      return { type: "run", id, request };
    }, options.onProgress);
    const cancel = () => this.post({ type: "cancel", id });
    signal?.addEventListener("abort", cancel, { once: true });
    return result.finally(() => signal?.removeEventListener("abort", cancel));
  }

  /** Ends the worker; jobs still running reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.fail(new GlideError("the job runner was closed"));
    await this.worker.terminate();
  }

  private request<T>(make: (id: number) => ToWorker, onProgress?: (event: ProgressEvent) => void): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onProgress });
      this.post(make(id));
    });
  }

  private post(message: ToWorker): void {
    if (!this.closed) this.worker.postMessage(message);
  }

  private receive(message: FromWorker): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === "progress") {
      pending.onProgress?.(message.event);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === "error") pending.reject(revive(message.error));
    else pending.resolve(message.type === "loaded" ? message.info : message.result);
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
