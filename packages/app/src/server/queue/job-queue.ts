// The queue between the HTTP handlers and the workers that run the networks. This interface is all
// the server uses, so a queue in another process (Redis/BullMQ: `glide serve --queue redis://…`)
// can replace the in-process one: jobs are plain data, progress and results come back as events.

import type { PipelineResult, ProgressEvent } from "glide-ts";
import { GlideError } from "glide-ts";

export interface SubmitOptions {
  /** Aborting it removes a waiting job or cancels a running one (e.g. the client went away). */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** A worker took the job (again, when the queue hands a job whose worker died to another). */
  onStart?: () => void;
}

/** An accepted job. */
export interface JobTicket {
  id: string;
  /** Settles when the job ends: its result, or its error (CancelledError, JobTimeoutError, …). */
  result: Promise<PipelineResult>;
}

export interface QueueStats {
  waiting: number;
  running: number;
  /** Jobs that may wait at once. */
  capacity: number;
  /** Jobs that may run at once. */
  workers: number;
}

export interface JobQueue<Job> {
  /** Resolves once the job is accepted; rejects with QueueFullError or QueueClosedError when it is not. */
  submit(job: Job, options?: SubmitOptions): Promise<JobTicket>;
  stats(): QueueStats;
  /** How many jobs wait ahead of this one (0: it runs next); null when it is not waiting, or that cannot be read now. */
  position(jobId: string): Promise<number | null>;
  /** False while the queue's store (Redis) cannot be reached: not ready. Absent: always reachable. */
  reachable?(): boolean;
  /** Stops accepting jobs; resolves when every accepted job has ended. */
  drain(): Promise<void>;
}

/** Runs jobs: `slots` of them at once, each on its own worker. */
export interface JobExecutor<Job> {
  readonly slots: number;
  run(slot: number, job: Job, options: SubmitOptions & { signal: AbortSignal }): Promise<PipelineResult>;
}

/** The queue is at its length limit; try again after about `retryAfterSeconds`. */
export class QueueFullError extends GlideError {
  override name = "QueueFullError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The queue takes no more jobs (the server is shutting down). */
export class QueueClosedError extends GlideError {
  override name = "QueueClosedError";
}

/** A job ran past the time limit and was cancelled. */
export class JobTimeoutError extends GlideError {
  override name = "JobTimeoutError";
}

/**
 * The queue cannot take or finish this job now (its Redis cannot be reached, lost the job, or gave
 * no answer within the server's deadline): try again after about `retryAfterSeconds`.
 */
export class QueueUnavailableError extends GlideError {
  override name = "QueueUnavailableError";
  constructor(
    message: string,
    readonly code: "queue_unavailable" | "job_lost" | "deadline_exceeded",
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}
