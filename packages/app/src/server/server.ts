// `glide serve` as a library: an OpenAI-compatible image API on a pool of model workers. It
// listens at once (/healthz answers while the models load; /readyz once they are loaded), and
// shuts down gracefully: no new jobs (503), the accepted ones finished, then closed.
import "glide-ts";
import { availableParallelism } from "node:os";
import type { FastifyInstance } from "fastify";
import type { ResolvedDevice } from "glide-ts";
import { type Device, DeviceError, resolveDevice } from "glide-ts";
import { AccessLog, type AccessLogOptions } from "./access-log.ts";
import { ApiKeys } from "./api-keys.ts";
import { buildApp } from "./app.ts";
import { DEFAULT_LIMITS, type ServerContext, type ServerLimits } from "./context.ts";
import type { ImageJob } from "./image-job.ts";
import { AsyncJobs } from "./image-jobs.ts";
import { ImageStore } from "./image-store.ts";
import { loggedQueue } from "./logged-queue.ts";
import { ServerMetrics } from "./metrics.ts";
import { listenError } from "./port-in-use.ts";
import type { JobQueue } from "./queue/job-queue.ts";
import { LocalJobQueue } from "./queue/local-queue.ts";
import { RedisJobQueue } from "./queue/redis-queue.ts";
import { checkServeOptions } from "./serve-options.ts";
import type { ServedModelSources } from "./served-models.ts";
import { type ServedModel, WorkerPool } from "./worker-pool.ts";

export interface ServeOptions {
  /** The models the worker threads load (not used with `queue`: the workers' models are served). */
  models?: ServedModelSources;
  /**
   * redis://HOST:PORT[/DB]: jobs go on a BullMQ queue in Redis, run by `glide worker` processes
   * (`workers` and `threads` are theirs then); ready once a worker is alive. Absent: worker threads here.
   */
  queue?: string;
  /** Default 127.0.0.1: only this machine can connect unless told otherwise. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Worker threads, each with the models loaded (default 1; 1 to 256). Every number here is checked: InvalidValueError. */
  workers?: number;
  /** onnxruntime threads per worker (default: the cores shared among the workers). */
  threads?: number;
  /**
   * Where the worker threads run the networks (default cpu; not used with `queue`: the workers'
   * own). Settled before the server listens: an unusable device is a DeviceError and no server.
   */
  device?: Device;
  /** Jobs that may wait for a worker (default 16). */
  queueSize?: number;
  /** A running job is stopped after this many seconds (default 600). */
  jobTimeoutSeconds?: number;
  /**
   * With `queue`: every image request is answered within this many seconds of its arrival, whatever
   * becomes of Redis or the workers (past it: 503, retryable; default: jobTimeoutSeconds + 600).
   */
  deadlineSeconds?: number;
  /** No keys: no authentication. */
  apiKeys?: readonly string[];
  corsOrigins?: readonly string[];
  /** How long `url` results can be fetched (default 3600 s). */
  urlTtlSeconds?: number;
  /** How long a finished asynchronous job (POST /v1/images/jobs) can be read (default 3600 s). */
  jobTtlSeconds?: number;
  /**
   * Finished asynchronous jobs kept at most, their images with them (default 200); the oldest are
   * forgotten first.
   */
  maxKeptJobs?: number;
  /**
   * The URL clients reach this server at (behind a proxy: its public address), the base of `url`
   * results. Default: the address it listens on. A request's Host header is never used.
   */
  publicUrl?: string;
  limits?: Partial<ServerLimits>;
  log?: (message: string) => void;
  /** One line per request and per job event (absent: none). */
  accessLog?: AccessLogOptions;
}

export interface GlideServer {
  /** http://host:port, the port the server got. */
  url: string;
  app: FastifyInstance;
  /** Resolves when the models are loaded and jobs are taken (rejects when loading failed). */
  ready: Promise<ServedModel>;
  metrics: ServerMetrics;
  /** Stops taking jobs, finishes the accepted ones (cancels the asynchronous ones), then closes everything. */
  shutdown(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<GlideServer> {
  checkServeOptions(options);
  if (options.queue && options.device !== undefined) {
    throw new DeviceError("--device is the workers' with --queue: give it to glide worker");
  }
  const device = options.queue ? "cpu" : (await resolveDevice(options.device ?? "cpu")).device;
  const metrics = new ServerMetrics();
  const ctx: ServerContext = {
    running: null,
    draining: false,
    store: await ImageStore.create(options.urlTtlSeconds ?? 3600),
    baseUrl: "",
    metrics,
    jobs: new AsyncJobs({
      ttlMs: (options.jobTtlSeconds ?? 3600) * 1000,
      maxKept: options.maxKeptJobs ?? 200,
      log: (message) => ctx.log(message),
    }),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    log: options.log ?? ((message) => process.stderr.write(`glide serve: ${message}\n`)),
  };
  const accessLog = options.accessLog ? new AccessLog(options.accessLog) : null;
  const app = await buildApp(ctx, {
    apiKeys: new ApiKeys(options.apiKeys ?? []),
    corsOrigins: options.corsOrigins ?? [],
    accessLog,
  });
  const host = options.host ?? "127.0.0.1";
  try {
    await app.listen({ host, port: options.port ?? 8000 });
  } catch (error) {
    await app.close();
    await ctx.store.close();
    ctx.jobs.close();
    throw listenError(error, options.port ?? 8000);
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  ctx.baseUrl = (options.publicUrl ?? url).replace(/\/+$/, "");

  const loading = startQueue(options, device, metrics, ctx.log);
  const ready = loading.then(async ({ queue, served }) => {
    ctx.running = { queue: accessLog ? loggedQueue(queue, accessLog) : queue, served: await served };
    return ctx.running.served;
  });
  ready.catch(() => undefined); // the caller learns of it from `ready`

  let stopping: Promise<void> | null = null;
  const shutdown = () => {
    stopping ??= (async () => {
      ctx.draining = true;
      // No one could read their results once this process is gone: the asynchronous jobs stop now.
      ctx.jobs.cancelAll();
      await ctx.running?.queue.drain();
      // The answers to the last jobs have a moment to go out; then connections are cut.
      const cut = setTimeout(() => app.server.closeAllConnections(), 10_000);
      cut.unref();
      await app.close();
      clearTimeout(cut);
      const running = await loading.catch(() => null);
      await running?.close();
      await ctx.store.close();
      ctx.jobs.close();
    })();
    return stopping;
  };
  return { url, app, ready, metrics, shutdown };
}

interface RunningQueue {
  queue: JobQueue<ImageJob>;
  /** The models jobs run on: known once they are loaded here, or once a worker on Redis is alive. */
  served: Promise<ServedModel>;
  close(): Promise<void>;
}

async function startQueue(
  options: ServeOptions,
  device: ResolvedDevice,
  metrics: ServerMetrics,
  log: (m: string) => void,
): Promise<RunningQueue> {
  const capacity = options.queueSize ?? 16;
  const timeoutMs = (options.jobTimeoutSeconds ?? 600) * 1000;
  if (options.queue) {
    const deadlineMs = options.deadlineSeconds === undefined ? undefined : options.deadlineSeconds * 1000;
    const queue = await RedisJobQueue.connect({
      url: options.queue,
      capacity,
      timeoutMs,
      deadlineMs,
      observer: metrics,
      log,
    });
    return { queue, served: queue.served, close: () => queue.close() };
  }
  if (!options.models) throw new TypeError("models are required without a queue");
  const workers = options.workers ?? 1;
  const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / workers));
  const pool = await WorkerPool.start(options.models, { workers, threads, device });
  const queue = new LocalJobQueue<ImageJob>(pool, { capacity, timeoutMs, observer: metrics });
  return { queue, served: Promise.resolve(pool.served), close: () => pool.close() };
}
