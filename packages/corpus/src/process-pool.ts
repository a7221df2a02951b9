// A pool of worker processes with a per-job timeout. A job whose worker dies (a native panic, an
// abort, a kill) or runs past the timeout fails alone: the worker is replaced and the pool goes on.
// Processes, not threads, because a panic in native code takes its whole process down.
import type { ChildProcess } from "node:child_process";
import { fork } from "node:child_process";
import { checkPositiveInteger } from "glide-ts/internals";
import type { FromWorker, ToWorker } from "./worker-protocol.ts";

export interface PoolOptions {
  /** Path of the worker module; it must call serveJobs() (see worker-protocol.ts). */
  module: string;
  workers: number;
  /** Per job, from the moment it is sent. */
  timeoutMs: number;
}

export type Outcome<R> =
  | { ok: true; result: R }
  /** `crashed`: the worker died or timed out (as opposed to the handler throwing). */
  | { ok: false; reason: string; crashed: boolean };

interface Task<J, R> {
  id: number;
  job: J;
  resolve: (outcome: Outcome<R>) => void;
  reject: (error: Error) => void;
}

interface Worker<J, R> {
  child: ChildProcess;
  ready: boolean;
  task?: Task<J, R>;
  timer?: NodeJS.Timeout;
  timedOut: boolean;
  stderr: string;
}

/** Consecutive workers that die before saying they are ready: the module itself is broken. */
const MAX_START_FAILURES = 3;

/**
 * How a worker runs its module: from a checkout's TypeScript sources with the tsx loader (resolved
 * here: cwd may be anywhere) and the workspace's source condition; a build with plain node.
 */
function workerExecArgv(module: string): string[] {
  if (!module.endsWith(".ts")) return [];
  return ["--conditions=glide-ts-source", "--import", import.meta.resolve("tsx")];
}

export class ProcessPool<J, R> {
  private readonly queue: Task<J, R>[] = [];
  private readonly workers = new Set<Worker<J, R>>();
  private nextId = 0;
  private startFailures = 0;
  private closed = false;
  private fatal: Error | undefined;
  /** Workers replaced after a crash or timeout. */
  restarts = 0;

  constructor(private readonly options: PoolOptions) {
    checkPositiveInteger(options.workers, "workers");
  }

  run(job: J): Promise<Outcome<R>> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.closed) return Promise.reject(new Error("the pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.pump();
    });
  }

  /** Rejects queued jobs, lets the workers exit and waits for them (killing any still busy after a second). */
  async close(): Promise<void> {
    this.closed = true;
    const closedError = new Error("the pool is closed");
    for (const task of this.queue.splice(0)) task.reject(closedError);
    const exits = [...this.workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve();
          worker.child.once("exit", () => resolve());
          const kill = setTimeout(() => worker.child.kill("SIGKILL"), 1000);
          kill.unref();
          if (worker.child.connected) worker.child.disconnect();
          else worker.child.kill("SIGKILL");
        }),
    );
    await Promise.all(exits);
  }

  private pump(): void {
    if (this.closed || this.fatal) return;
    while (this.workers.size < this.options.workers && this.workers.size < this.queue.length + this.busyCount()) {
      this.spawn();
    }
    for (const worker of this.workers) {
      if (!worker.ready || worker.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      worker.task = task;
      worker.timedOut = false;
      worker.timer = setTimeout(() => {
        worker.timedOut = true;
        worker.child.kill("SIGKILL");
      }, this.options.timeoutMs);
      worker.child.send({ id: task.id, job: task.job } satisfies ToWorker<J>);
    }
  }

  private busyCount(): number {
    let busy = 0;
    for (const worker of this.workers) if (worker.task) busy++;
    return busy;
  }

  private spawn(): void {
    const child = fork(this.options.module, [], {
      execArgv: workerExecArgv(this.options.module),
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const worker: Worker<J, R> = { child, ready: false, timedOut: false, stderr: "" };
    this.workers.add(worker);
    child.stderr?.on("data", (chunk: Buffer) => {
      worker.stderr = (worker.stderr + chunk.toString("utf8")).slice(-4000);
    });
    child.on("message", (message: FromWorker<R>) => {
      if (message.type === "ready") {
        worker.ready = true;
        this.startFailures = 0;
      } else {
        const task = worker.task;
        if (!task || task.id !== message.id) return;
        clearTimeout(worker.timer);
        worker.task = undefined;
        if (message.type === "done") task.resolve({ ok: true, result: message.result });
        else task.resolve({ ok: false, reason: message.error, crashed: false });
      }
      this.pump();
    });
    let ended = false;
    const onEnd = (why: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(worker.timer);
      this.workers.delete(worker);
      const task = worker.task;
      if (task) {
        this.restarts++;
        const reason = worker.timedOut
          ? `timed out after ${this.options.timeoutMs / 1000} s`
          : `renderer process died (${why})`;
        task.resolve({ ok: false, reason: `${reason}${describeStderr(worker.stderr)}`, crashed: true });
      } else if (!worker.ready && !this.closed) {
        this.startFailures++;
        if (this.startFailures >= MAX_START_FAILURES) {
          this.fail(new Error(`worker ${this.options.module} cannot start (${why})${describeStderr(worker.stderr)}`));
          return;
        }
      }
      this.pump();
    };
    child.on("exit", (code, signal) => onEnd(signal ?? `exit code ${code}`));
    child.on("error", (error) => onEnd(error.message));
  }

  private fail(error: Error): void {
    this.fatal = error;
    for (const task of this.queue.splice(0)) task.reject(error);
    for (const worker of this.workers) {
      worker.task?.reject(error);
      worker.child.kill("SIGKILL");
    }
  }
}

/** The telling line of a dead worker's stderr: a panic message if there is one, else the last line. */
function describeStderr(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => /panicked|error/i.test(l)) ?? lines[lines.length - 1];
  return line ? `: ${line.slice(0, 300)}` : "";
}
