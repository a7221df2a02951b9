// A job queue that writes each job's queued, started and end lines to the access log, whichever
// route submitted it and whichever queue (in-process or Redis) runs it.
import { CancelledError } from "glide-ts";
import type { AccessLog } from "./access-log.ts";
import { toApiError } from "./errors.ts";
import type { ImageJob } from "./image-job.ts";
import type { JobQueue, JobTicket, SubmitOptions } from "./queue/job-queue.ts";

export function loggedQueue(queue: JobQueue<ImageJob>, log: AccessLog): JobQueue<ImageJob> {
  return {
    stats: () => queue.stats(),
    position: (id) => queue.position(id),
    reachable: queue.reachable ? () => queue.reachable!() : undefined,
    drain: () => queue.drain(),
    async submit(job: ImageJob, options: SubmitOptions = {}): Promise<JobTicket> {
      const queuedAt = performance.now();
      const since = () => (performance.now() - queuedAt) / 1000;
      let id: string | null = null;
      // Seconds waited, once it started (a job handed to another worker after its first died starts
      // once in the log); a job may start before its submission returns its id.
      let waited: number | null = null;
      const logStarted = () => log.job({ event: "started", job: id!, kind: job.kind, seconds: waited! });
      const ticket = await queue.submit(job, {
        ...options,
        onStart: () => {
          if (waited === null) {
            waited = since();
            if (id !== null) logStarted();
          }
          options.onStart?.();
        },
      });
      id = ticket.id;
      log.job({ event: "queued", job: id, kind: job.kind, ...(log.logPrompts ? { prompt: job.prompt } : {}) });
      if (waited !== null) logStarted();
      ticket.result.then(
        () => log.job({ event: "finished", job: id, kind: job.kind, seconds: since() }),
        (error: unknown) => {
          const cancelled = error instanceof CancelledError;
          const code = toApiError(error).code ?? undefined;
          log.job({
            event: cancelled ? "cancelled" : "failed",
            job: id,
            kind: job.kind,
            seconds: since(),
            ...(cancelled ? {} : { error: code }),
          });
        },
      );
      return ticket;
    },
  };
}
