// Runs a long loop (sampling, training) in a worker thread so the caller's event loop stays live:
// onnxruntime's session.run blocks the thread it is called on (docs/ARCHITECTURE.md).
import { Worker } from "node:worker_threads";

export interface WorkerTaskMessage<P, R> {
  type: "progress" | "done" | "error";
  progress?: P;
  result?: R;
  message?: string;
}

/** A task a worker can run: the exported function of a module. */
export type WorkerTask<A, P, R> = (args: A, report: (progress: P) => void) => Promise<R> | R;

/**
 * A worker thread on the module `entry`. From the TypeScript sources (Node 20 cannot start a worker
 * on a .ts file even with a loader flag) the worker starts on a one-line script that registers tsx
 * and then imports the entry; a built .js entry starts directly.
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, { workerData });
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const script = `import(${tsx}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(script, { eval: true, workerData });
}

const ENTRY_EXTENSION = import.meta.url.endsWith(".ts") ? "ts" : "js";

/**
 * Calls `exportName` from `moduleUrl` in a new worker with `args` (structured-cloneable), forwards its
 * progress reports to `onProgress`, and resolves with its result (or rejects with its error).
 */
export function runInWorker<A, P, R>(
  moduleUrl: string | URL,
  exportName: string,
  args: A,
  onProgress?: (progress: P) => void,
): Promise<R> {
  const worker = startWorker(new URL(`./worker-entry.${ENTRY_EXTENSION}`, import.meta.url), {
    moduleUrl: String(moduleUrl),
    exportName,
    args,
  });
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    worker.on("message", (message: WorkerTaskMessage<P, R>) => {
      if (message.type === "progress") onProgress?.(message.progress as P);
      else if (message.type === "done") {
        settled = true;
        resolve(message.result as R);
      } else {
        settled = true;
        reject(new Error(message.message));
      }
    });
    worker.on("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.on("exit", (code) => {
      if (!settled) reject(new Error(`worker for ${exportName} exited with code ${code} before finishing`));
    });
  });
}
