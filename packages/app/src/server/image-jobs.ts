// Asynchronous image jobs (POST /v1/images/jobs…): put on the same queue as the synchronous
// requests, then polled. A job's state lives in the server that accepted it, fed by the queue's
// callbacks (a worker took it, its progress and previews, its end), whichever queue runs it. Finished
// jobs are kept for `ttlMs`, and at most `maxKept` of them (the oldest are forgotten first).

import type { PipelineResult, ProgressEvent, RgbImage, Stage } from "glide-ts";
import { CancelledError } from "glide-ts";
import { type ApiErrorBody, toApiError } from "./errors.ts";
import type { ImageJob, JobKind } from "./image-job.ts";
import type { JobQueue } from "./queue/job-queue.ts";

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface JobProgress {
  stage: Stage;
  /** 0 while the stage sets up, then the steps done. */
  step: number;
  /** Null while the stage sets up. */
  total: number | null;
  eta_seconds: number | null;
}

/** The latest prediction of x₀: one picture per image of the job. */
export interface JobPreview {
  stage: Stage;
  step: number;
  images: RgbImage[];
}

export interface AsyncImageJob {
  /** The queue's id of the job. */
  id: string;
  /** Who may see and cancel it (see ApiKeys.owner). */
  owner: string;
  kind: JobKind;
  /** Unix seconds. */
  created: number;
  status: JobStatus;
  progress: JobProgress | null;
  preview: JobPreview | null;
  /** What the result became (the response's images) once it succeeded. */
  output: unknown;
  error: ApiErrorBody["error"] | null;
  /** Unix milliseconds: when it ended (null while it has not). */
  finishedAt: number | null;
}

interface Entry {
  job: AsyncImageJob;
  queue: JobQueue<ImageJob>;
  cancel: AbortController;
}

export interface AsyncJobsOptions {
  /** How long a finished job is kept. */
  ttlMs: number;
  /** Finished jobs kept at most. */
  maxKept: number;
  log: (message: string) => void;
}

const FINISHED: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];
export const isFinished = (job: AsyncImageJob) => FINISHED.includes(job.status);

export class AsyncJobs {
  /** In submission order. */
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(readonly options: AsyncJobsOptions) {
    this.sweeper = setInterval(() => this.forgetOld(), Math.min(options.ttlMs, 60_000));
    this.sweeper.unref();
  }

  /**
   * Puts the job on the queue (its errors, e.g. a full queue, are thrown); `render` turns its result
   * into the output that polls get.
   */
  async submit(
    queue: JobQueue<ImageJob>,
    owner: string,
    image: ImageJob,
    render: (result: PipelineResult) => Promise<unknown>,
  ): Promise<AsyncImageJob> {
    this.forgetOld();
    const job: AsyncImageJob = {
      id: "",
      owner,
      kind: image.kind,
      created: Math.floor(Date.now() / 1000),
      status: "queued",
      progress: null,
      preview: null,
      output: null,
      error: null,
      finishedAt: null,
    };
    const cancel = new AbortController();
    const ticket = await queue.submit(image, {
      signal: cancel.signal,
      onStart: () => {
        if (job.status === "queued") job.status = "running";
      },
      onProgress: (event) => progressed(job, event),
    });
    job.id = ticket.id;
    this.entries.set(job.id, { job, queue, cancel });
    ticket.result
      .then(async (result) => {
        if (isFinished(job)) return;
        const output = await render(result);
        if (!isFinished(job)) this.finish(job, "succeeded", { output });
      })
      .catch((error: unknown) => {
        if (isFinished(job)) return;
        const apiError = toApiError(error);
        if (apiError.code === "internal_error") this.options.log(`job ${job.id} failed: ${String(error)}`);
        if (error instanceof CancelledError) this.finish(job, "cancelled", {});
        else this.finish(job, "failed", { error: apiError.body().error });
      });
    return job;
  }

  /** The job, when `owner` made it and it has not been forgotten. */
  get(id: string, owner: string): AsyncImageJob | null {
    this.forgetOld();
    const entry = this.entries.get(id);
    return entry && entry.job.owner === owner ? entry.job : null;
  }

  /** `owner`'s jobs, newest first. */
  list(owner: string, limit: number): AsyncImageJob[] {
    this.forgetOld();
    const jobs = [...this.entries.values()].map((e) => e.job).filter((job) => job.owner === owner);
    return jobs.reverse().slice(0, limit);
  }

  /** How many jobs wait ahead of this one, as its queue says (null: it does not wait, or the queue cannot tell). */
  async position(job: AsyncImageJob): Promise<number | null> {
    const entry = this.entries.get(job.id);
    if (!entry || job.status !== "queued") return null;
    return entry.queue.position(job.id);
  }

  /** Cancels a queued or running job: cancelled at once here; on its worker, at its next step. */
  cancel(job: AsyncImageJob): void {
    const entry = this.entries.get(job.id);
    if (!entry || isFinished(job)) return;
    this.finish(job, "cancelled", {});
    entry.cancel.abort();
  }

  /** Cancels every queued or running job (the server is shutting down). */
  cancelAll(): void {
    for (const { job } of this.entries.values()) this.cancel(job);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private finish(job: AsyncImageJob, status: JobStatus, outcome: { output?: unknown; error?: AsyncImageJob["error"] }) {
    job.status = status;
    job.finishedAt = Date.now();
    job.output = outcome.output ?? null;
    job.error = outcome.error ?? null;
    job.preview = null;
    this.forgetOld();
  }

  /** Forgets the finished jobs past their time, then the oldest past the count kept. */
  private forgetOld(now = Date.now()): void {
    let finished = 0;
    for (const { job } of this.entries.values()) if (isFinished(job)) finished++;
    for (const [id, { job }] of this.entries) {
      if (!isFinished(job)) continue;
      if (finished > this.options.maxKept || job.finishedAt! + this.options.ttlMs <= now) {
        this.entries.delete(id);
        finished--;
      }
    }
  }
}

function progressed(job: AsyncImageJob, event: ProgressEvent): void {
  if (isFinished(job)) return;
  job.status = "running"; // the queue's "started" may come after the first progress (Redis)
  if (event.kind === "setup") {
    job.progress = { stage: event.stage, step: 0, total: null, eta_seconds: null };
    return;
  }
  const eta = event.etaSeconds === null ? null : Math.round(event.etaSeconds * 1000) / 1000;
  job.progress = { stage: event.stage, step: event.step, total: event.total, eta_seconds: eta };
  if (event.preview) job.preview = { stage: event.stage, step: event.step, images: event.preview };
}
