// The worker side of a VariationRunner: keeps one base model loaded and runs variations on it,
// cancelling a run between steps on request.
import "../platform/node.ts";
import { parentPort } from "node:worker_threads";
import type { GlideModel } from "../glide/model.ts";
import { PipelineError } from "../pipelines/errors.ts";
import { loadModel } from "../pipelines/load-model.ts";
import { imageVariation } from "./variation.ts";
import type { FromVariationWorker, ToVariationWorker } from "./variation-protocol.ts";
import { serializeError } from "./worker-errors.ts";

const port = parentPort!;
const post = (message: FromVariationWorker) => port.postMessage(message);
const running = new Map<number, AbortController>();
let model: GlideModel | null = null;

async function handle(message: ToVariationWorker): Promise<void> {
  const { id } = message;
  try {
    switch (message.type) {
      case "load":
        model = (await loadModel(message.source)).model;
        post({ type: "done", id, result: null });
        return;
      case "cancel":
        running.get(id)?.abort();
        return;
      case "run": {
        if (!model) throw new PipelineError("no model is loaded for variations");
        const controller = new AbortController();
        running.set(id, controller);
        try {
          const result = await imageVariation({
            ...message.options,
            model,
            signal: controller.signal,
            onProgress: (event) => post({ type: "progress", id, event }),
          });
          post({ type: "done", id, result });
        } finally {
          running.delete(id);
        }
        return;
      }
    }
  } catch (error) {
    post({ type: "error", id, error: serializeError(error) });
  }
}

port.on("message", (message: ToVariationWorker) => void handle(message));
