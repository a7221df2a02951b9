// `glide serve`'s log: one line per request (method, route pattern, status, milliseconds, the job it
// made or named) and one per job event (queued, started, finished, failed or cancelled, seconds), as
// text or as JSON. A prompt is never written unless asked for.
import type { FastifyRequest } from "fastify";

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface AccessLogOptions {
  format: LogFormat;
  /** Write each job's prompt in its "queued" line. */
  logPrompts?: boolean;
  /** Where lines go (default: stdout). */
  write?: (line: string) => void;
}

export interface RequestLine {
  method: string;
  /** The route's pattern (e.g. /v1/images/jobs/:id), not the URL asked for. */
  route: string;
  status: number;
  ms: number;
  job?: string;
}

export type JobEvent = "queued" | "started" | "finished" | "failed" | "cancelled";

export interface JobLine {
  event: JobEvent;
  job: string;
  kind: string;
  /** queued: none; started: seconds it waited; the end: seconds since it was queued. */
  seconds?: number;
  /** failed: the error's code. */
  error?: string;
  prompt?: string;
}

/** The job a request made or named, noted by its handler for the request's line. */
const jobOfRequest = new WeakMap<FastifyRequest, string>();

export function noteJob(request: FastifyRequest, id: string): void {
  jobOfRequest.set(request, id);
}

export function jobNoted(request: FastifyRequest): string | undefined {
  return jobOfRequest.get(request);
}

export class AccessLog {
  private readonly write: (line: string) => void;

  constructor(readonly options: AccessLogOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  get logPrompts(): boolean {
    return this.options.logPrompts === true;
  }

  request(line: RequestLine): void {
    const ms = Math.round(line.ms * 10) / 10;
    if (this.options.format === "json") {
      this.write(JSON.stringify({ type: "request", ...line, ms, time: new Date().toISOString() }));
      return;
    }
    const job = line.job ? ` job=${line.job}` : "";
    this.write(`request ${line.method} ${line.route} ${line.status} ${ms}ms${job}`);
  }

  job(line: JobLine): void {
    const seconds = line.seconds === undefined ? undefined : Math.round(line.seconds * 1000) / 1000;
    if (this.options.format === "json") {
      this.write(JSON.stringify({ type: "job", ...line, seconds, time: new Date().toISOString() }));
      return;
    }
    const parts = [`job ${line.job} ${line.event} ${line.kind}`];
    if (seconds !== undefined) parts.push(line.event === "started" ? `after ${seconds}s queued` : `${seconds}s`);
    if (line.error) parts.push(`error=${line.error}`);
    if (line.prompt !== undefined) parts.push(`prompt=${JSON.stringify(line.prompt)}`);
    this.write(parts.join(" "));
  }
}
