// onnxruntime-web runs a session on the calling thread and resolves its promise without giving the
// event loop a turn, so a sampling loop of awaited runs never sees the page's messages — a cancel
// would wait for the end of the run. Here every session run first lets queued tasks (messages) run:
// the core's AbortSignal is then aborted in time, and the core checks it between steps.

import { browserPlatform, type InferenceEngine, setPlatform } from "glide-ts";
import type { InferenceSession } from "onnxruntime-common";

/** Resolves once the event loop has had a turn (a task, not a microtask). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Sets the browser platform with sessions whose runs yield to the event loop first. */
export function yieldBetweenRuns(): void {
  const engine = browserPlatform.inference;
  const Session = engine.InferenceSession;
  // The core creates every session from a model's bytes (runtime/session.ts).
  const create = async (model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> => {
    const session = await Session.create(model, options ?? {});
    const run = session.run.bind(session) as (...args: unknown[]) => Promise<InferenceSession.ReturnType>;
    session.run = (async (...args: unknown[]) => {
      await nextTask();
      return run(...args);
    }) as InferenceSession["run"];
    return session;
  };
  const inference: InferenceEngine = { ...engine, InferenceSession: { create } as unknown as typeof Session };
  setPlatform({ ...browserPlatform, inference });
}
