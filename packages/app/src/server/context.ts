// What the route handlers share: the queue and the models (once loaded), the stores, the limits.
import type { ImageJob } from "./image-job.ts";
import type { AsyncJobs } from "./image-jobs.ts";
import type { RequestLimits } from "./image-request.ts";
import type { ImageStore } from "./image-store.ts";
import type { ServerMetrics } from "./metrics.ts";
import type { JobQueue } from "./queue/job-queue.ts";
import type { ImageLimits } from "./upload-check.ts";
import type { ServedModel } from "./worker-pool.ts";

export interface ServerLimits extends RequestLimits, ImageLimits {
  /** Bytes of a JSON body. */
  jsonBytes: number;
  /** Bytes of an uploaded file. */
  uploadBytes: number;
  /**
   * Milliseconds a client has to send a whole request (headers and body): a slow or stalled upload
   * is answered 408 and its connection closed. The answer itself may take as long as the job.
   */
  requestTimeoutMs: number;
  /** Open connections at once; more are refused at connect. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  jsonBytes: 1 << 20,
  uploadBytes: 16 << 20,
  requestTimeoutMs: 30_000,
  maxConnections: 256,
  maxPromptChars: 1000,
  maxN: 4,
  maxSide: 4096,
  maxPixels: 4096 * 4096,
};

export interface ServerContext {
  /** Null while the models load. */
  running: { queue: JobQueue<ImageJob>; served: ServedModel } | null;
  /** Set by a shutdown: the API answers 503 from then on. */
  draining: boolean;
  store: ImageStore;
  /** The asynchronous jobs (POST /v1/images/jobs) and their results, until they expire. */
  jobs: AsyncJobs;
  /** The base of `url` results: the configured public URL, else the address the server listens on. */
  baseUrl: string;
  metrics: ServerMetrics;
  limits: ServerLimits;
  /** Where failures that are the server's (500s) are reported. */
  log: (message: string) => void;
}
