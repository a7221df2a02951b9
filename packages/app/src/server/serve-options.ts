// The options of `glide serve` and `glide worker` as a library, checked before anything starts:
// a bad value (0 workers, a port of 70000, a time limit of NaN, …) is an InvalidValueError that
// names the option, never a RangeError from deep inside or a server that misbehaves.
import { checkInRange, checkIntegerInRange, checkPositiveInteger } from "glide-ts/internals";
import type { ServerLimits } from "./context.ts";

/** Worker threads at most: each loads every served model. */
export const MAX_WORKERS = 256;
/** onnxruntime threads per worker at most. */
export const MAX_THREADS = 1024;
/** The longest time limit a timer can hold (2³¹ − 1 ms); a longer one would fire at once. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** The shortest time limit: a millisecond. */
const MIN_SECONDS = 0.001;

/** The pool's `workers` and `threads`, where given. */
export function checkPoolOptions(options: { workers?: number; threads?: number }): void {
  if (options.workers !== undefined) checkIntegerInRange(options.workers, "workers", 1, MAX_WORKERS);
  if (options.threads !== undefined) checkIntegerInRange(options.threads, "threads", 1, MAX_THREADS);
}

function checkSeconds(value: number | undefined, what: string): void {
  if (value !== undefined) checkInRange(value, what, MIN_SECONDS, MAX_TIMER_SECONDS);
}

function checkCount(value: number | undefined, what: string): void {
  if (value !== undefined) checkPositiveInteger(value, what);
}

export interface CheckedServeOptions {
  port?: number;
  workers?: number;
  threads?: number;
  queueSize?: number;
  jobTimeoutSeconds?: number;
  deadlineSeconds?: number;
  urlTtlSeconds?: number;
  jobTtlSeconds?: number;
  maxKeptJobs?: number;
  limits?: Partial<ServerLimits>;
}

/** Every number startServer takes; an InvalidValueError naming the first bad one. */
export function checkServeOptions(options: CheckedServeOptions): void {
  if (options.port !== undefined) checkIntegerInRange(options.port, "port", 0, 65535);
  checkPoolOptions(options);
  checkCount(options.queueSize, "queueSize");
  checkSeconds(options.jobTimeoutSeconds, "jobTimeoutSeconds");
  checkSeconds(options.deadlineSeconds, "deadlineSeconds");
  checkSeconds(options.urlTtlSeconds, "urlTtlSeconds");
  checkSeconds(options.jobTtlSeconds, "jobTtlSeconds");
  checkCount(options.maxKeptJobs, "maxKeptJobs");
  const limits = options.limits ?? {};
  for (const name of [
    "jsonBytes",
    "uploadBytes",
    "maxConnections",
    "maxPromptChars",
    "maxN",
    "maxSide",
    "maxPixels",
  ] as const) {
    checkCount(limits[name], `limits.${name}`);
  }
  if (limits.requestTimeoutMs !== undefined) {
    checkIntegerInRange(limits.requestTimeoutMs, "limits.requestTimeoutMs", 1, 2 ** 31 - 1);
  }
}
