// Where the Redis queue lives: the connection options of a redis:// URL, and the names every server
// and worker of one queue share (BullMQ's queue, the cancel channel, the worker registry).

import { GlideError } from "glide-ts";
import { Redis, type RedisOptions } from "ioredis";

/** The BullMQ queue the servers put jobs on and the workers take them from. */
export const QUEUE_NAME = "glide-images";
/** BullMQ's key prefix; our own keys and channels live under it too. */
export const KEY_PREFIX = "bull";
const BASE = `${KEY_PREFIX}:${QUEUE_NAME}`;

export const redisKeys = {
  /** A job's hash in BullMQ (gone once the job is removed, or when Redis lost it). */
  job: (jobId: string) => `${BASE}:${jobId}`,
  /** BullMQ's list of waiting jobs: added on the left, taken from the right. */
  wait: `${BASE}:wait`,
  /** BullMQ's event stream of the queue (completed, failed, active, stalled, …). */
  events: `${BASE}:events`,
  /** Job ids to cancel, published by a server whose client went away. */
  cancelChannel: `${BASE}:glide:cancel`,
  /** Set when a job is cancelled, so a worker that takes it later still skips it. */
  cancelled: (jobId: string) => `${BASE}:glide:cancelled:${jobId}`,
  /** The progress events of one server's jobs. */
  progressChannel: (serverId: string) => `${BASE}:glide:progress:${serverId}`,
  /** A live worker's registration (expires unless renewed). */
  worker: (workerId: string) => `${BASE}:glide:worker:${workerId}`,
  workerPattern: `${BASE}:glide:worker:*`,
};

/** The connection options of redis://[user:password@]HOST[:PORT][/DB] (rediss:// for TLS). */
export function redisOptions(url: string): RedisOptions {
  const bad = () => new GlideError(`--queue must be a Redis URL, redis://HOST:PORT[/DB]; got '${url}'`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad();
  }
  if ((parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || parsed.hostname === "") throw bad();
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw bad();
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    db: db === "" ? 0 : Number(db),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    tls: parsed.protocol === "rediss:" ? {} : undefined,
    // BullMQ's blocking connections need this; our own connections wait for Redis the same way.
    maxRetriesPerRequest: null,
  };
}

/** The URL without its password, for messages. */
export function describeRedis(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** A connection that answered PING (a GlideError naming the URL when Redis cannot be reached in time). */
export async function connectRedis(url: string, timeoutMs = 10_000): Promise<Redis> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true });
  let cause: Error | null = null; // ioredis reconnects on its own; what went wrong is reported below
  client.on("error", (error: Error) => {
    cause = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    return client;
  } catch (error) {
    client.disconnect();
    const reason = (cause as Error | null)?.message ?? (error as Error).message;
    throw new GlideError(`cannot reach Redis at ${describeRedis(url)}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Errors of a connection that ioredis is re-establishing on its own (it retries every 2 s at most). */
const CONNECTION_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function isConnectionError(error: Error & { code?: unknown }): boolean {
  return (
    (typeof error.code === "string" && CONNECTION_ERRORS.has(error.code)) ||
    /Connection is closed|Stream isn't writeable|connect ETIMEDOUT/.test(error.message)
  );
}

interface ErrorEmitter {
  on(event: "error", listener: (error: Error) => void): unknown;
}

/**
 * Whether Redis answers, as one connection sees it, told quietly: one line when the connection
 * drops, one when it is back. The connection errors of the retries in between, on it and on every
 * other connection `watch`ed, are not logged (ioredis reconnects on its own).
 */
export class RedisLink {
  private downSince: number | null = null;
  private stopped = false;
  private readonly listeners: ((up: boolean) => void)[] = [];

  constructor(
    client: Redis,
    private readonly url: string,
    private readonly log: (message: string) => void,
  ) {
    client.on("close", () => this.dropped());
    client.on("ready", () => this.restored());
    this.watch(client);
  }

  /** False from the moment the connection drops until it is ready again. */
  get up(): boolean {
    return this.downSince === null;
  }

  /** Errors of this emitter (another connection, a BullMQ queue or worker) are logged only when they are not the drop's. */
  watch(emitter: ErrorEmitter, prefix = "redis"): void {
    emitter.on("error", (error) => {
      if (this.stopped || !this.up || isConnectionError(error)) return;
      this.log(`${prefix}: ${error.message}`);
    });
  }

  /** Called with false when the connection drops, true when it is back. */
  onChange(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** The connections are being closed on purpose: nothing more to report. */
  stop(): void {
    this.stopped = true;
  }

  private dropped(): void {
    if (this.stopped || !this.up) return;
    this.downSince = performance.now();
    this.log(`redis: lost the connection to ${describeRedis(this.url)}; reconnecting`);
    for (const listener of this.listeners) listener(false);
  }

  private restored(): void {
    if (this.stopped || this.up) return;
    const seconds = ((performance.now() - this.downSince!) / 1000).toFixed(1);
    this.downSince = null;
    this.log(`redis: connected to ${describeRedis(this.url)} again (after ${seconds} s)`);
    for (const listener of this.listeners) listener(true);
  }
}
