// The worker side of runInWorker: imports the task's module, runs it, posts progress and the result.
import "../platform/node.ts";
import { parentPort, workerData } from "node:worker_threads";
import type { WorkerTask, WorkerTaskMessage } from "./worker.ts";

const { moduleUrl, exportName, args } = workerData as { moduleUrl: string; exportName: string; args: unknown };
const post = (message: WorkerTaskMessage<unknown, unknown>) => parentPort!.postMessage(message);

try {
  const module = (await import(moduleUrl)) as Record<string, unknown>;
  const task = module[exportName];
  if (typeof task !== "function") throw new Error(`${moduleUrl} has no exported function '${exportName}'`);
  const result = await (task as WorkerTask<unknown, unknown, unknown>)(args, (progress) =>
    post({ type: "progress", progress }),
  );
  post({ type: "done", result });
} catch (error) {
  post({ type: "error", message: error instanceof Error ? error.message : String(error) });
}
