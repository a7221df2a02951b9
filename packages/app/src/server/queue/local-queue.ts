// The in-process JobQueue: a bounded list of waiting jobs handed to the executor's slots in
// arrival order, with a time limit per running job.
import { randomUUID } from "node:crypto";
import type { PipelineResult } from "glide-ts";
import { CancelledError } from "glide-ts";
import {
  type JobExecutor,
  type JobQueue,
  type JobTicket,
  JobTimeoutError,
  QueueClosedError,
  QueueFullError,
  type QueueStats,
  type SubmitOptions,
} from "./job-queue.ts";

export type JobOutcome = "completed" | "failed" | "cancelled" | "timeout";

/** What the queue tells its observer (the server's metrics). */
export interface QueueObserver {
  rejected?(reason: "full" | "closed"): void;
  ended?(outcome: JobOutcome, seconds: number, result: PipelineResult | null): void;
}

export interface LocalQueueOptions {
  /** Jobs that may wait for a free worker. */
  capacity: number;
  /** A running job is cancelled after this long (a JobTimeoutError); none when absent. */
  timeoutMs?: number;
  observer?: QueueObserver;
}

interface Waiting<Job> {
  id: string;
  job: Job;
  options: SubmitOptions;
  resolve: (result: PipelineResult) => void;
  reject: (error: Error) => void;
  dropIfAborted: () => void;
}

export class LocalJobQueue<Job> implements JobQueue<Job> {
  private readonly waiting: Waiting<Job>[] = [];
  private readonly freeSlots: number[];
  private closed = false;
  private drained: (() => void)[] = [];
  /** Seconds a job takes, smoothed: for the Retry-After of a full queue. */
  private jobSeconds = 10;

  constructor(
    private readonly executor: JobExecutor<Job>,
    private readonly options: LocalQueueOptions,
  ) {
    this.freeSlots = Array.from({ length: executor.slots }, (_, i) => i);
  }

  stats(): QueueStats {
    return {
      waiting: this.waiting.length,
      running: this.executor.slots - this.freeSlots.length,
      capacity: this.options.capacity,
      workers: this.executor.slots,
    };
  }

  async submit(job: Job, options: SubmitOptions = {}): Promise<JobTicket> {
    if (this.closed) {
      this.options.observer?.rejected?.("closed");
      throw new QueueClosedError("the server is shutting down and takes no new jobs");
    }
    if (options.signal?.aborted) throw new CancelledError("the job was cancelled before it was queued");
    if (this.freeSlots.length === 0 && this.waiting.length >= this.options.capacity) {
      this.options.observer?.rejected?.("full");
      const { waiting, running, workers } = this.stats();
      const retryAfter = Math.max(1, Math.ceil((this.jobSeconds * (waiting + running)) / workers));
      throw new QueueFullError(
        `the queue is full (${waiting} jobs waiting, ${running} running); try again in about ${retryAfter} s`,
        retryAfter,
      );
    }
    const id = randomUUID();
    const result = new Promise<PipelineResult>((resolve, reject) => {
      const entry: Waiting<Job> = {
        id,
        job,
        options,
        resolve,
        reject,
        dropIfAborted: () => {
          const index = this.waiting.indexOf(entry);
          if (index < 0) return;
          this.waiting.splice(index, 1);
          this.options.observer?.ended?.("cancelled", 0, null);
          reject(new CancelledError("the job was cancelled while it waited"));
          this.checkDrained();
        },
      };
      options.signal?.addEventListener("abort", entry.dropIfAborted, { once: true });
      this.waiting.push(entry);
    });
    this.dispatch();
    return { id, result };
  }

  async position(jobId: string): Promise<number | null> {
    const index = this.waiting.findIndex((entry) => entry.id === jobId);
    return index < 0 ? null : index;
  }

  drain(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      this.drained.push(resolve);
      this.checkDrained();
    });
  }

  private dispatch(): void {
    while (this.freeSlots.length > 0 && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      entry.options.signal?.removeEventListener("abort", entry.dropIfAborted);
      void this.start(this.freeSlots.shift()!, entry);
    }
  }

  private async start(slot: number, entry: Waiting<Job>): Promise<void> {
    const started = performance.now();
    const controller = new AbortController();
    const cancel = () => controller.abort();
    entry.options.signal?.addEventListener("abort", cancel, { once: true });
    let timedOut = false;
    const { timeoutMs } = this.options;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs);
    let outcome: JobOutcome = "failed";
    let result: PipelineResult | null = null;
    try {
      entry.options.onStart?.();
      result = await this.executor.run(slot, entry.job, {
        signal: controller.signal,
        onProgress: entry.options.onProgress,
      });
      outcome = "completed";
      entry.resolve(result);
    } catch (error) {
      if (timedOut && error instanceof CancelledError) {
        outcome = "timeout";
        entry.reject(new JobTimeoutError(`the job ran past the time limit of ${timeoutMs! / 1000} s and was stopped`));
      } else {
        if (error instanceof CancelledError) outcome = "cancelled";
        entry.reject(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      clearTimeout(timer);
      entry.options.signal?.removeEventListener("abort", cancel);
      const seconds = (performance.now() - started) / 1000;
      if (outcome === "completed") this.jobSeconds = 0.7 * this.jobSeconds + 0.3 * seconds;
      this.options.observer?.ended?.(outcome, seconds, result);
      this.freeSlots.push(slot);
      this.dispatch();
      this.checkDrained();
    }
  }

  private checkDrained(): void {
    if (!this.closed || this.waiting.length > 0 || this.freeSlots.length < this.executor.slots) return;
    for (const resolve of this.drained.splice(0)) resolve();
  }
}
