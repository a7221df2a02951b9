// The JobQueue of `glide serve --queue redis://…`: jobs go on a BullMQ queue in Redis, and any number
// of `glide worker` processes (redis-worker.ts) run them. The HTTP process only waits for answers:
// - the end of a job comes from BullMQ's event stream (QueueEvents "completed", with the worker's
//   return value): it is kept in Redis, so an answer is not lost when this process reads it late;
// - progress and previews come on a pub/sub channel of this server: they matter only while the client
//   waits, so nothing of them is stored (job.updateProgress would write every preview into the job
//   and the event stream), and each server hears only its own jobs.
// A job ends once here however often BullMQ hands it to a worker: a job whose worker died is given
// to another by BullMQ's stalled-job check, and only the run that holds the job's lock can complete it.
// And every job ends here, whatever happens to Redis or the workers: a job is answered with a
// QueueUnavailableError (503, retryable) when Redis cannot be reached at submission, stays unreachable
// past a grace period, or no longer has the job (restarted without persistence), and at the latest
// at the server's own deadline, which no worker has to enforce.
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import type { PipelineResult } from "glide-ts";
import { CancelledError } from "glide-ts";
import type { Redis } from "ioredis";
import type { ImageJob } from "../image-job.ts";
import type { ServedModel } from "../worker-pool.ts";
import {
  type JobQueue,
  type JobTicket,
  JobTimeoutError,
  QueueClosedError,
  QueueFullError,
  type QueueStats,
  QueueUnavailableError,
  type SubmitOptions,
} from "./job-queue.ts";
import type { JobOutcome, QueueObserver } from "./local-queue.ts";
import { connectRedis, KEY_PREFIX, QUEUE_NAME, RedisLink, redisKeys, redisOptions } from "./redis-connection.ts";
import { liveWorkers, type WorkerRegistration } from "./redis-registry.ts";
import {
  decodeProgress,
  decodeResult,
  encodeJob,
  reviveError,
  type WireJobData,
  type WireOutcome,
  type WireProgress,
} from "./redis-wire.ts";

export interface RedisQueueOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  /** Jobs that may wait in Redis (all servers' together); more get a QueueFullError. */
  capacity: number;
  /** A running job is stopped by its worker after this long (a JobTimeoutError); none when absent. */
  timeoutMs?: number;
  observer?: QueueObserver;
  log?: (message: string) => void;
  /**
   * While draining with no live worker, how long to wait for one (default 30 s) before the jobs
   * still waiting are taken off the queue and answered with a QueueClosedError.
   */
  drainWithoutWorkersMs?: number;
  /**
   * Every job is answered within this long of its submission: past it, it is cancelled and answered
   * with a QueueUnavailableError (default: timeoutMs + 10 min of waiting for a worker; none without timeoutMs).
   */
  deadlineMs?: number;
  /** How long jobs wait for Redis once it cannot be reached (default 15 s) before they are answered. */
  unreachableGraceMs?: number;
}

interface Pending {
  resolve: (result: PipelineResult) => void;
  reject: (error: Error) => void;
  onProgress: SubmitOptions["onProgress"];
  onStart: SubmitOptions["onStart"];
  /** The latest run of the job that reported progress; messages of an earlier run are dropped. */
  attempt: number;
  startedAt: number | null;
  /** Set once the job's end is being delivered: a second end (a late duplicate) is ignored. */
  ending: boolean;
  /** Set once the job is in Redis: from then on it must stay there until its end is read. */
  added: boolean;
  /** When a check first found the job gone from Redis (null: it was there). */
  missingSince: number | null;
  /** Stops listening for the client's cancel and clears the deadline. */
  stopListening: () => void;
}

/** Events kept in Redis' event stream: enough for a server that reads a little late. */
const EVENTS_KEPT = 1000;
const REFRESH_MS = 1000;
/** How long a cancelled job's mark stays, for a worker that takes the job after the cancel message. */
const CANCEL_MARK_MS = 3_600_000;
/** A job missing from Redis this long (two checks at least) is lost: a finished job's end arrives well within it. */
const LOST_AFTER_MS = 2000;
/** Redis answers an admission within this long, or the job is refused (503). */
const ADMIT_TIMEOUT_MS = 5000;
/** A job's place in the queue is left unknown when Redis takes longer than this to tell it. */
const POSITION_TIMEOUT_MS = 1000;
/** Seconds a client is asked to wait before it sends again a job the queue could not run. */
const RETRY_AFTER_S = 5;

export class RedisJobQueue implements JobQueue<ImageJob> {
  private readonly id = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private counts = { waiting: 0, running: 0 };
  private workers: WorkerRegistration[] = [];
  private readonly mismatched = new Set<string>();
  private closed = false;
  /** When a drain first found no live worker (null: it has one, or no drain). */
  private noWorkersSince: number | null = null;
  private drained: (() => void)[] = [];
  /** Admissions one after another: the waiting count checked is the one the job is added to. */
  private admission: Promise<unknown> = Promise.resolve();
  /** Seconds a job takes, smoothed: for the Retry-After of a full queue. */
  private jobSeconds = 10;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  private firstWorker!: (served: ServedModel) => void;
  /** Resolves with the models of the first live worker seen. */
  readonly served = new Promise<ServedModel>((resolve) => {
    this.firstWorker = resolve;
  });
  private readonly log: (message: string) => void;
  private readonly link: RedisLink;
  /** Set while Redis cannot be reached: when it fires, the pending jobs are answered. */
  private unreachableTimer: NodeJS.Timeout | undefined;
  private connectionsClosed = false;

  private constructor(
    private readonly options: RedisQueueOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly client: Redis,
    private readonly subscriber: Redis,
  ) {
    this.log = options.log ?? (() => undefined);
    this.link = new RedisLink(client, options.url, this.log);
    for (const emitter of [queue, events, subscriber]) this.link.watch(emitter);
    this.link.onChange((up) => {
      clearTimeout(this.unreachableTimer);
      if (up) return;
      this.workers = []; // unknown until Redis answers again
      const grace = this.options.unreachableGraceMs ?? 15_000;
      this.unreachableTimer = setTimeout(() => {
        const message = `the job queue (Redis) has been unreachable for ${grace / 1000} s; send the request again later`;
        for (const jobId of [...this.pending.keys()]) {
          this.giveUp(jobId, new QueueUnavailableError(message, "queue_unavailable", RETRY_AFTER_S), "failed");
        }
      }, grace);
      this.unreachableTimer.unref();
    });
  }

  static async connect(options: RedisQueueOptions): Promise<RedisJobQueue> {
    const client = await connectRedis(options.url);
    const connection = redisOptions(options.url);
    const queue = new Queue<WireJobData, WireOutcome>(QUEUE_NAME, {
      connection,
      prefix: KEY_PREFIX,
      streams: { events: { maxLen: EVENTS_KEPT } },
    });
    // Read from the stream's present end, taken before any job of ours is added: no event of ours is missed.
    const last = await client.xrevrange(redisKeys.events, "+", "-", "COUNT", 1);
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: KEY_PREFIX, lastEventId: last[0]?.[0] ?? "0-0" });
    const subscriber = client.duplicate();
    const self = new RedisJobQueue(options, queue, events, client, subscriber);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    await self.listen();
    return self;
  }

  stats(): QueueStats {
    return {
      ...this.counts,
      capacity: this.options.capacity,
      workers: this.workers.reduce((sum, w) => sum + w.slots, 0),
    };
  }

  /** Read from BullMQ's waiting list in Redis, so it counts every server's jobs (null while Redis does not answer). */
  async position(jobId: string): Promise<number | null> {
    if (!this.link.up) return null;
    const read = Promise.all([this.client.lpos(redisKeys.wait, jobId), this.client.llen(redisKeys.wait)]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), POSITION_TIMEOUT_MS);
    });
    try {
      const answer = await Promise.race([read.catch(() => null), late]);
      if (answer === null || answer[0] === null) return null;
      const [index, length] = answer;
      return Math.max(0, length - 1 - index);
    } finally {
      clearTimeout(timer);
    }
  }

  reachable(): boolean {
    return this.link.up;
  }

  submit(job: ImageJob, options: SubmitOptions = {}): Promise<JobTicket> {
    if (this.closed) {
      this.options.observer?.rejected?.("closed");
      return Promise.reject(new QueueClosedError("the server is shutting down and takes no new jobs"));
    }
    if (options.signal?.aborted)
      return Promise.reject(new CancelledError("the job was cancelled before it was queued"));
    if (!this.link.up) return Promise.reject(this.unreachable());
    const id = randomUUID();
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const admitted = this.admission.then(() =>
      Promise.race([
        this.admit(id, job, options, () => expired),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            expired = true;
            this.giveUp(id, this.unreachable(), "failed");
            reject(this.unreachable());
          }, ADMIT_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer)),
    );
    this.admission = admitted.catch(() => undefined);
    return admitted;
  }

  private unreachable(): QueueUnavailableError {
    return new QueueUnavailableError(
      "the job queue (Redis) cannot be reached; send the request again later",
      "queue_unavailable",
      RETRY_AFTER_S,
    );
  }

  drain(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      this.drained.push(resolve);
      this.checkDrained();
    });
  }

  /** Closes the connections (after `drain`: jobs still pending never end here). */
  async close(): Promise<void> {
    this.closed = true;
    const up = this.link.up;
    this.link.stop();
    clearInterval(this.refreshTimer);
    clearTimeout(this.unreachableTimer);
    this.connectionsClosed = true;
    // Graceful while Redis answers; while it cannot be reached, commands would wait for it: cut instead.
    const grace = up ? 5000 : 0;
    await settledWithin(this.refreshing ?? Promise.resolve(), grace);
    if (!(await settledWithin(this.events.close(), grace))) (await this.events.client).disconnect();
    if (!(await settledWithin(this.queue.close(), grace))) (await this.queue.client).disconnect();
    this.subscriber.disconnect();
    if (!(await settledWithin(this.client.quit(), grace))) this.client.disconnect();
  }

  private async listen(): Promise<void> {
    this.events.on("active", ({ jobId }) => {
      const entry = this.pending.get(jobId);
      if (!entry || entry.ending) return;
      entry.startedAt = performance.now();
      entry.onStart?.();
    });
    this.events.on("completed", ({ jobId, returnvalue }) => {
      void this.finish(jobId, returnvalue as unknown as WireOutcome);
    });
    this.events.on("failed", ({ jobId, failedReason }) => {
      // Only what BullMQ itself fails (a job whose workers kept dying): a job's own errors complete it.
      void this.finish(jobId, { error: { name: "Error", message: `the job failed in the queue: ${failedReason}` } });
    });
    this.events.on("stalled", ({ jobId }) => {
      if (this.pending.has(jobId)) this.log(`job ${jobId} lost its worker; the queue hands it to another`);
    });
    this.subscriber.on("message", (_channel: string, message: string) => this.progress(JSON.parse(message)));
    await this.subscriber.subscribe(redisKeys.progressChannel(this.id));
    await this.refresh();
    this.refreshTimer = setInterval(() => {
      this.refreshing ??= this.refresh()
        .catch((error: Error) => this.log(`redis: ${error.message}`))
        .finally(() => {
          this.refreshing = null;
        });
    }, REFRESH_MS);
    this.refreshTimer.unref();
  }

  /** `expired`: the admission took too long and was answered; nothing more is to be done for it. */
  private async admit(id: string, job: ImageJob, options: SubmitOptions, expired: () => boolean): Promise<JobTicket> {
    if (this.closed) {
      this.options.observer?.rejected?.("closed");
      throw new QueueClosedError("the server is shutting down and takes no new jobs");
    }
    if (!this.link.up) throw this.unreachable();
    const waiting = await this.queue.getWaitingCount();
    if (expired()) throw this.unreachable();
    this.counts.waiting = waiting;
    if (waiting >= this.options.capacity) {
      this.options.observer?.rejected?.("full");
      const { running, workers } = this.stats();
      const retryAfter = Math.max(1, Math.ceil((this.jobSeconds * (waiting + running)) / Math.max(1, workers)));
      throw new QueueFullError(
        `the queue is full (${waiting} jobs waiting, ${running} running); try again in about ${retryAfter} s`,
        retryAfter,
      );
    }
    const { signal } = options;
    const cancel = () => this.cancel(id);
    const deadlineMs =
      this.options.deadlineMs ?? (this.options.timeoutMs === undefined ? undefined : this.options.timeoutMs + 600_000);
    const deadline =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            const message = `the job had no answer within the server's deadline of ${deadlineMs / 1000} s and was cancelled; send the request again`;
            this.giveUp(id, new QueueUnavailableError(message, "deadline_exceeded", RETRY_AFTER_S), "timeout");
          }, deadlineMs);
    const result = new Promise<PipelineResult>((resolve, reject) => {
      this.pending.set(id, {
        resolve,
        reject,
        onProgress: options.onProgress,
        onStart: options.onStart,
        attempt: 0,
        startedAt: null,
        ending: false,
        added: false,
        missingSince: null,
        stopListening: () => {
          signal?.removeEventListener("abort", cancel);
          clearTimeout(deadline);
        },
      });
    });
    result.catch(() => undefined); // the caller handles it; this keeps an early cancel from being "unhandled"
    signal?.addEventListener("abort", cancel, { once: true });
    const data: WireJobData = {
      job: encodeJob(job),
      replyTo: redisKeys.progressChannel(this.id),
      timeoutMs: this.options.timeoutMs ?? null,
    };
    try {
      await this.queue.add("image", data, { jobId: id, removeOnComplete: true, removeOnFail: true });
    } catch (error) {
      this.pending.get(id)?.stopListening();
      this.pending.delete(id);
      throw error;
    }
    const entry = this.pending.get(id);
    if (entry) entry.added = true;
    // Answered already (too slow to admit): the job that did reach Redis is taken off again.
    if (expired()) this.stopInRedis(id);
    this.counts.waiting++;
    return { id, result };
  }

  private progress(message: WireProgress): void {
    const entry = this.pending.get(message.jobId);
    if (!entry || entry.ending || message.attempt < entry.attempt) return;
    entry.attempt = message.attempt;
    entry.onProgress?.(decodeProgress(message.event));
  }

  private async finish(jobId: string, outcome: WireOutcome): Promise<void> {
    const entry = this.pending.get(jobId);
    if (!entry || entry.ending) return;
    entry.ending = true;
    try {
      if ("error" in outcome) throw reviveError(outcome.error);
      const result = await decodeResult(outcome.result);
      this.ended(entry, "completed", result);
      entry.resolve(result);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.ended(
        entry,
        e instanceof JobTimeoutError ? "timeout" : e instanceof CancelledError ? "cancelled" : "failed",
      );
      entry.reject(e);
    } finally {
      this.pending.delete(jobId);
      this.checkDrained();
    }
  }

  /** The client went away: the job ends here at once; in Redis it is removed, or its worker is told to stop. */
  private cancel(jobId: string): void {
    this.giveUp(jobId, new CancelledError("the job was cancelled (its client went away)"), "cancelled");
  }

  /** The job ends here at once with `error`, and is taken off Redis (or its worker told to stop). */
  private giveUp(jobId: string, error: Error, outcome: JobOutcome): void {
    const entry = this.pending.get(jobId);
    if (!entry || entry.ending) return;
    entry.ending = true;
    this.ended(entry, outcome);
    entry.reject(error);
    this.pending.delete(jobId);
    this.checkDrained();
    this.stopInRedis(jobId);
  }

  /** Marks the job cancelled, then removes it, or tells its worker (while Redis is down: once it is back). */
  private stopInRedis(jobId: string): void {
    void (async () => {
      await this.client.set(redisKeys.cancelled(jobId), "1", "PX", CANCEL_MARK_MS);
      if ((await this.queue.remove(jobId)) !== 1) await this.client.publish(redisKeys.cancelChannel, jobId);
    })().catch((error: Error) => {
      if (!this.connectionsClosed && this.link.up) this.log(`cancelling job ${jobId}: ${error.message}`);
    });
  }

  private ended(entry: Pending, outcome: JobOutcome, result: PipelineResult | null = null): void {
    entry.stopListening();
    const seconds = entry.startedAt === null ? 0 : (performance.now() - entry.startedAt) / 1000;
    if (outcome === "completed") this.jobSeconds = 0.7 * this.jobSeconds + 0.3 * seconds;
    this.options.observer?.ended?.(outcome, seconds, result);
  }

  private async refresh(): Promise<void> {
    const counts = await this.queue.getJobCounts("waiting", "active");
    this.counts = { waiting: (counts.waiting ?? 0) + (counts.paused ?? 0), running: counts.active ?? 0 };
    this.workers = await liveWorkers(this.client);
    await this.findLostJobs();
    await this.abandonIfNoWorkers();
    const first = this.workers[0];
    if (!first) return;
    this.firstWorker(first.served);
    for (const worker of this.workers) {
      if (worker.served.id !== first.served.id && !this.mismatched.has(worker.id)) {
        this.mismatched.add(worker.id);
        this.log(`worker ${worker.id} serves '${worker.served.id}', not '${first.served.id}' as the others`);
      }
    }
  }

  /**
   * A job of ours that is no longer in Redis (restarted without persistence, or it evicted the job)
   * will never end there: once it has been missing for a while, it is answered (503, retryable).
   */
  private async findLostJobs(): Promise<void> {
    const ids = [...this.pending].filter(([, entry]) => entry.added && !entry.ending).map(([id]) => id);
    if (ids.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.exists(redisKeys.job(id));
    const answers = (await pipeline.exec()) ?? [];
    const now = performance.now();
    for (const [i, id] of ids.entries()) {
      const entry = this.pending.get(id);
      const [error, exists] = answers[i] ?? [null, 1];
      if (!entry || error || exists === 1) {
        if (entry) entry.missingSince = null;
        continue;
      }
      entry.missingSince ??= now;
      if (now - entry.missingSince < LOST_AFTER_MS) continue;
      const message = "the job queue (Redis) lost the job (restarted or out of memory); send the request again";
      this.giveUp(id, new QueueUnavailableError(message, "job_lost", RETRY_AFTER_S), "failed");
    }
  }

  /**
   * A drain waits for the accepted jobs, but with no worker alive they would never end: after a
   * grace period the jobs still waiting are removed from Redis and answered (503); a job some worker
   * already runs is left to it.
   */
  private async abandonIfNoWorkers(): Promise<void> {
    if (!this.closed || this.pending.size === 0 || this.workers.length > 0) {
      this.noWorkersSince = null;
      return;
    }
    this.noWorkersSince ??= performance.now();
    if (performance.now() - this.noWorkersSince < (this.options.drainWithoutWorkersMs ?? 30_000)) return;
    for (const [jobId, entry] of this.pending) {
      if (entry.ending || (await this.queue.remove(jobId)) !== 1) continue;
      entry.ending = true;
      this.ended(entry, "failed");
      entry.reject(new QueueClosedError("the server shut down with no worker alive to run this job; send it again"));
      this.pending.delete(jobId);
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.closed || this.pending.size > 0) return;
    for (const resolve of this.drained.splice(0)) resolve();
  }
}

/** Whether `work` settled within `ms` (its failure counts as settled). */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = work.then(
    () => true,
    () => true,
  );
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
