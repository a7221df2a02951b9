// Runs a long loop (sampling, training) in a worker thread so the caller's event loop stays live:
// onnxruntime's session.run blocks the thread it is called on (docs/ARCHITECTURE.md).
import { Worker } from "node:worker_threads";

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
