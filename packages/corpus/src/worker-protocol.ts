// The message protocol between a ProcessPool and its worker processes. A worker module calls
// serveJobs(handler) once; the pool sends one job at a time and waits for its reply.

export type ToWorker<J> = { id: number; job: J };
export type FromWorker<R> =
  | { type: "ready" }
  | { type: "done"; id: number; result: R }
  | { type: "failed"; id: number; error: string };

/** Runs in the worker process: answers each job with the handler's result or its error message. */
export function serveJobs<J, R>(handler: (job: J) => Promise<R>): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error("a pool worker must be started by ProcessPool (no IPC channel)");
  process.on("message", async (message: ToWorker<J>) => {
    let reply: FromWorker<R>;
    try {
      reply = { type: "done", id: message.id, result: await handler(message.job) };
    } catch (error) {
      reply = { type: "failed", id: message.id, error: error instanceof Error ? error.message : String(error) };
    }
    send(reply);
  });
  send({ type: "ready" } satisfies FromWorker<R>);
}
