// Where the Redis queue lives: the connection options of a redis:// URL, and the names every server
// and worker of one queue share (BullMQ's queue, the cancel channel, the worker registry).
import { Redis, type RedisOptions } from "ioredis";
import { GlideError } from "../../errors.ts";

/** The BullMQ queue the servers put jobs on and the workers take them from. */
export const QUEUE_NAME = "glide-images";
/** BullMQ's key prefix; our own keys and channels live under it too. */
export const KEY_PREFIX = "bull";
const BASE = `${KEY_PREFIX}:${QUEUE_NAME}`;

export const redisKeys = {
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
