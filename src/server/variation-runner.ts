// Variations in a worker thread that keeps the base model loaded, the way a JobRunner runs the
// pipelines (the JobRunner's worker has no variation pipeline yet).
import type { Worker } from "node:worker_threads";
import { CancelledError, GlideError } from "../errors.ts";
import type { JobOptions } from "../jobs/job-runner.ts";
import type { ModelSource } from "../pipelines/load-model.ts";
import type { PipelineResult, ProgressEvent } from "../pipelines/types.ts";
import { startWorker } from "../runtime/worker.ts";
import type { FromVariationWorker, ToVariationWorker, VariationJobOptions } from "./variation-protocol.ts";
import { reviveError } from "./worker-errors.ts";

const ENTRY = new URL(`./variation-worker.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);

interface Pending {
  resolve: (value: PipelineResult | null) => void;
  reject: (error: Error) => void;
  onProgress?: (event: ProgressEvent) => void;
}

export class VariationRunner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: FromVariationWorker) => this.receive(message));
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`the variation worker exited (code ${code})`)));
  }

  /** Starts the worker and loads the model it varies pictures with. */
  static async start(source: ModelSource): Promise<VariationRunner> {
    const runner = new VariationRunner(startWorker(ENTRY, null));
    try {
      await runner.request((id) => ({ type: "load", id, source }));
    } catch (error) {
      await runner.close();
      throw error;
    }
    return runner;
  }

  async run(options: VariationJobOptions, job: JobOptions = {}): Promise<PipelineResult> {
    const { signal } = job;
    if (signal?.aborted) throw new CancelledError("the variation was cancelled before it started");
    let id = 0;
    const result = this.request((assigned) => {
      id = assigned;
      return { type: "run", id, options };
    }, job.onProgress);
    const cancel = () => this.post({ type: "cancel", id });
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      return (await result)!;
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.fail(new GlideError("the variation runner was closed"));
    await this.worker.terminate();
  }

  private request(
    make: (id: number) => ToVariationWorker,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<PipelineResult | null> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.post(make(id));
    });
  }

  private post(message: ToVariationWorker): void {
    if (!this.closed) this.worker.postMessage(message);
  }

  private receive(message: FromVariationWorker): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === "progress") {
      pending.onProgress?.(message.event);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === "error") pending.reject(reviveError(message.error));
    else pending.resolve(message.result);
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
