// `glide worker` as a library: worker threads with the models loaded, taking jobs from the Redis queue
// that `glide serve --queue` fills.
import "glide-ts";
import { availableParallelism } from "node:os";
import { type Device, resolveDevice } from "glide-ts";
import { checkInRange } from "glide-ts/internals";
import { redisOptions } from "./queue/redis-connection.ts";
import { RedisQueueWorker } from "./queue/redis-worker.ts";
import { checkPoolOptions, MAX_TIMER_SECONDS } from "./serve-options.ts";
import type { ServedModelSources } from "./served-models.ts";
import { type ServedModel, WorkerPool } from "./worker-pool.ts";

export interface QueueWorkerProcessOptions {
  /** redis://HOST:PORT[/DB] */
  queue: string;
  models: ServedModelSources;
  /** Worker threads, each with the models loaded, each running one job at a time (default 1). */
  workers?: number;
  /** onnxruntime threads per worker thread (default: the cores shared among them). */
  threads?: number;
  /** Where the networks run (default cpu), settled before the models load or Redis is joined. */
  device?: Device;
  /** A job whose worker stops renewing its lock for this long goes to another worker (default 30). */
  lockDurationSeconds?: number;
  log?: (message: string) => void;
}

export interface QueueWorkerProcess {
  id: string;
  served: ServedModel;
  slots: number;
  /** Takes no more jobs, finishes the running ones, then stops the threads. */
  close(): Promise<void>;
}

export async function startQueueWorker(options: QueueWorkerProcessOptions): Promise<QueueWorkerProcess> {
  redisOptions(options.queue); // a bad URL is reported before the models load
  checkPoolOptions(options);
  if (options.lockDurationSeconds !== undefined) {
    checkInRange(options.lockDurationSeconds, "lockDurationSeconds", 0.001, MAX_TIMER_SECONDS);
  }
  const { device } = await resolveDevice(options.device ?? "cpu");
  const workers = options.workers ?? 1;
  const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / workers));
  const pool = await WorkerPool.start(options.models, { workers, threads, device });
  let worker: RedisQueueWorker;
  try {
    worker = await RedisQueueWorker.start({
      url: options.queue,
      executor: pool,
      served: pool.served,
      lockDurationMs: options.lockDurationSeconds === undefined ? undefined : options.lockDurationSeconds * 1000,
      log: options.log,
    });
  } catch (error) {
    await pool.close();
    throw error;
  }
  return {
    id: worker.id,
    served: pool.served,
    slots: pool.slots,
    close: async () => {
      await worker.close();
      await pool.close();
    },
  };
}
