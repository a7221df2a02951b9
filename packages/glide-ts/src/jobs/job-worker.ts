// The worker side of a JobRunner: keeps loaded models (and so their compiled sessions) for the
// thread's life, runs one pipeline call per request, and cancels it on request between steps.
import "../platform/node.ts";
import { parentPort } from "node:worker_threads";
import type { GlideModel } from "../glide/model.ts";
import { edit } from "../pipelines/edit.ts";
import { PipelineError } from "../pipelines/errors.ts";
import { loadModel } from "../pipelines/load-model.ts";
import { releaseSessions } from "../pipelines/sessions.ts";
import { textToImage } from "../pipelines/text-to-image.ts";
import type { PipelineResult, ProgressEvent } from "../pipelines/types.ts";
import { upsample } from "../pipelines/upsample.ts";
import { variation } from "../pipelines/variation.ts";
import { type FromWorker, type JobRequest, serializedError, type ToWorker } from "./protocol.ts";

const models = new Map<string, GlideModel>();
const running = new Map<number, AbortController>();
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

function model(key: string): GlideModel {
  const found = models.get(key);
  if (!found)
    throw new PipelineError(`no model loaded as '${key}' (loaded: ${[...models.keys()].join(", ") || "none"})`);
  return found;
}

function run(request: JobRequest, signal: AbortSignal, id: number): Promise<PipelineResult> {
  const progress = { signal, onProgress: (event: ProgressEvent) => post({ type: "progress", id, event }) };
  switch (request.pipeline) {
    case "textToImage":
      return textToImage({
        ...request.options,
        ...progress,
        model: model(request.model),
        upsampler: request.upsampler ? model(request.upsampler) : null,
      });
    case "edit":
      return edit({
        ...request.options,
        ...progress,
        model: model(request.model),
        upsampler: request.upsampler ? model(request.upsampler) : null,
      });
    case "variation":
      return variation({
        ...request.options,
        ...progress,
        model: model(request.model),
        upsampler: request.upsampler ? model(request.upsampler) : null,
      });
    case "upsample":
      return upsample({ ...request.options, ...progress, upsampler: model(request.upsampler) });
  }
}

async function handle(message: ToWorker): Promise<void> {
  const { id } = message;
  try {
    switch (message.type) {
      case "load": {
        const loaded = await loadModel(message.source);
        const previous = models.get(message.key);
        if (previous) await releaseSessions(previous);
        models.set(message.key, loaded.model);
        const { config } = loaded.model;
        post({
          type: "loaded",
          id,
          info: {
            key: message.key,
            variant: loaded.model.variant,
            imageSize: config.image_size,
            parameters: loaded.model.params.count(),
            preset: loaded.preset,
            recommendedSampling: loaded.model.recommendedSampling,
          },
        });
        return;
      }
      case "unload": {
        const found = models.get(message.key);
        if (found) await releaseSessions(found);
        models.delete(message.key);
        post({ type: "done", id, result: null });
        return;
      }
      case "cancel":
        running.get(id)?.abort();
        return;
      case "run": {
        const controller = new AbortController();
        running.set(id, controller);
        try {
          post({ type: "done", id, result: await run(message.request, controller.signal, id) });
        } finally {
          running.delete(id);
        }
        return;
      }
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: "error", id, error: serializedError(e) });
  }
}

port.on("message", (message: ToWorker) => void handle(message));
