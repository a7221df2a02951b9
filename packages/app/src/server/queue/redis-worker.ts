// The worker side of the Redis queue (`glide worker --queue redis://…`): takes jobs from BullMQ and
// runs them on its executor's slots (JobRunner threads with the models loaded), sends their progress
// to the server that waits for them, stops a job when told to (cancel channel) or at its time limit,
// and keeps its registration alive so servers know it is there and what it serves.
//
// A job's own errors (a bad sampler, a cancel, the time limit) are its return value: BullMQ completes
// it and the server rethrows the error; BullMQ fails a job only when its workers keep dying.
import { randomUUID } from "node:crypto";
import { type Job, Worker } from "bullmq";
import type { ProgressEvent } from "glide-ts";
import { CancelledError } from "glide-ts";
import type { Redis } from "ioredis";
import type { ImageJob } from "../image-job.ts";
import type { ServedModel } from "../worker-pool.ts";
import type { JobExecutor } from "./job-queue.ts";
import { connectRedis, KEY_PREFIX, QUEUE_NAME, RedisLink, redisKeys, redisOptions } from "./redis-connection.ts";
import { WorkerHeartbeat } from "./redis-registry.ts";
import {
  decodeJob,
  encodeProgress,
  encodeResult,
  serializeError,
  type WireJobData,
  type WireOutcome,
  type WireProgress,
} from "./redis-wire.ts";

/** BullMQ's wrapper of one Redis connection (a Worker has two; only one is public). */
interface BullConnection {
  disconnect(wait?: boolean): Promise<void>;
}

/** How long closing waits for Redis after the running jobs have ended. */
const CLOSE_GRACE_MS = 3000;

const delay = <T = undefined>(ms: number, value?: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value as T), ms));

export interface QueueWorkerOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  executor: JobExecutor<ImageJob>;
  /** What the executor's models make (servers answer with it). */
  served: ServedModel;
  /**
   * A job whose worker has not renewed its lock for this long is handed to another worker (default
   * 30 s, BullMQ's). The lock is renewed by this process' event loop, which the networks never block.
   */
  lockDurationMs?: number;
  /** How this worker is named in the registry (default: a random id). */
  id?: string;
  /** One line per job that ends. */
  log?: (message: string) => void;
}

export class RedisQueueWorker {
  private readonly running = new Map<string, AbortController>();
  private readonly freeSlots: number[];
  private readonly log: (message: string) => void;
  private worker: Worker<WireJobData, WireOutcome> | null = null;
  private closing: Promise<void> | null = null;
  private readonly link: RedisLink;

  private constructor(
    private readonly options: QueueWorkerOptions,
    private readonly client: Redis,
    private readonly subscriber: Redis,
    private readonly heartbeat: WorkerHeartbeat,
  ) {
    this.freeSlots = Array.from({ length: options.executor.slots }, (_, i) => i);
    this.log = options.log ?? (() => undefined);
    // One line when Redis drops and one when it is back, not one per reconnection attempt.
    this.link = new RedisLink(client, options.url, this.log);
    this.link.watch(subscriber);
  }

  get id(): string {
    return this.heartbeat.registration.id;
  }

  /** Registers the worker and starts taking jobs. */
  static async start(options: QueueWorkerOptions): Promise<RedisQueueWorker> {
    const client = await connectRedis(options.url);
    const subscriber = client.duplicate();
    const heartbeat = new WorkerHeartbeat(client, options.id ?? randomUUID(), options.executor.slots, options.served);
    const self = new RedisQueueWorker(options, client, subscriber, heartbeat);
    subscriber.on("message", (_channel: string, jobId: string) => self.running.get(jobId)?.abort());
    await subscriber.subscribe(redisKeys.cancelChannel);
    await heartbeat.start();
    const lockDuration = options.lockDurationMs ?? 30_000;
    self.worker = new Worker<WireJobData, WireOutcome>(QUEUE_NAME, (job) => self.process(job), {
      connection: redisOptions(options.url),
      prefix: KEY_PREFIX,
      concurrency: options.executor.slots,
      lockDuration,
      stalledInterval: lockDuration,
      maxStalledCount: 1,
    });
    self.link.watch(self.worker, "queue");
    await self.worker.waitUntilReady();
    return self;
  }

  /**
   * Takes no more jobs, finishes the running ones, unregisters and disconnects. BullMQ's close and
   * Redis' QUIT wait for Redis to answer, which it never does while it is down: once the running
   * jobs have ended, Redis gets CLOSE_GRACE_MS to answer, and no wait after the first unanswered one.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let answering = true;
      const bounded = async (work: Promise<unknown>) => {
        const timedOut = Symbol();
        const wait = answering ? CLOSE_GRACE_MS : 0;
        const outcome = await Promise.race([work.catch(() => undefined), delay(wait, timedOut)]);
        if (outcome === timedOut) answering = false;
      };
      const worker = this.worker;
      if (worker) {
        const graceful = worker.close();
        await Promise.race([graceful, this.runningJobsEnded()]);
        await bounded(graceful);
        if (!answering) {
          // The graceful close stays pending (a second close only returns it): end both of BullMQ's
          // connections here, or their reconnection timers keep the process alive.
          const blocking = (worker as unknown as { blockingConnection?: BullConnection }).blockingConnection;
          void blocking?.disconnect(false).catch(() => undefined);
          void worker.disconnect().catch(() => undefined);
        }
      }
      this.link.stop();
      await bounded(this.heartbeat.stop());
      this.subscriber.disconnect();
      await bounded(this.client.quit());
      this.client.disconnect();
    })();
    return this.closing;
  }

  private async runningJobsEnded(): Promise<void> {
    while (this.running.size > 0) await delay(100);
  }

  private async process(job: Job<WireJobData, WireOutcome>): Promise<WireOutcome> {
    const id = job.id!;
    const { timeoutMs, replyTo } = job.data;
    const started = performance.now();
    const controller = new AbortController();
    this.running.set(id, controller);
    let timedOut = false;
    const timer =
      timeoutMs === null
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs);
    const slot = this.freeSlots.shift();
    const again = job.attemptsStarted > 1 ? ` (run ${job.attemptsStarted}: an earlier worker stopped)` : "";
    this.log(`job ${id} started${again}`);
    let outcome: WireOutcome;
    try {
      if (slot === undefined) throw new Error("no free slot (BullMQ ran more jobs at once than its concurrency)");
      // Cancelled before this worker took it (the cancel message went by while it waited).
      if ((await this.client.exists(redisKeys.cancelled(id))) === 1) controller.abort();
      const onProgress = (event: ProgressEvent) => {
        const message: WireProgress = { jobId: id, attempt: job.attemptsStarted, event: encodeProgress(event) };
        this.client.publish(replyTo, JSON.stringify(message)).catch(() => undefined);
      };
      const result = await this.options.executor.run(slot, decodeJob(job.data.job), {
        signal: controller.signal,
        onProgress,
      });
      outcome = { result: await encodeResult(result) };
    } catch (error) {
      outcome =
        timedOut && error instanceof CancelledError
          ? {
              error: {
                name: "JobTimeoutError",
                message: `the job ran past the time limit of ${timeoutMs! / 1000} s and was stopped`,
              },
            }
          : { error: serializeError(error) };
    } finally {
      clearTimeout(timer);
      this.running.delete(id);
      if (slot !== undefined) this.freeSlots.push(slot);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    this.log(`job ${id} ${"error" in outcome ? `ended with ${outcome.error.name}` : "done"} in ${seconds} s`);
    return outcome;
  }
}
