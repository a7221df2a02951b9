// The messages between a JobRunner and its worker thread. Everything in them is structured-cloneable:
// models are referred to by the key they were loaded under, errors travel as name + message.
import type { RecommendedSampling } from "../glide/model.ts";
import type { EditOptions } from "../pipelines/edit.ts";
import { PipelineError } from "../pipelines/errors.ts";
import type { ModelSource } from "../pipelines/load-model.ts";
import type { TextToImageOptions } from "../pipelines/text-to-image.ts";
import type { PipelineResult, ProgressEvent } from "../pipelines/types.ts";
import type { UpsampleOptions } from "../pipelines/upsample.ts";
import type { VariationOptions } from "../pipelines/variation.ts";

type WithoutCallbacks<T> = Omit<T, "onProgress" | "signal">;

/** A pipeline call whose models are keys of models loaded in the worker. */
export type JobRequest =
  | {
      pipeline: "textToImage";
      options: WithoutCallbacks<Omit<TextToImageOptions, "model" | "upsampler">>;
      model: string;
      upsampler?: string | null;
    }
  | {
      pipeline: "edit";
      options: WithoutCallbacks<Omit<EditOptions, "model" | "upsampler">>;
      model: string;
      upsampler?: string | null;
    }
  | {
      pipeline: "variation";
      options: WithoutCallbacks<Omit<VariationOptions, "model" | "upsampler">>;
      model: string;
      upsampler?: string | null;
    }
  | { pipeline: "upsample"; options: WithoutCallbacks<Omit<UpsampleOptions, "upsampler">>; upsampler: string };

export type ToWorker =
  | { type: "load"; id: number; key: string; source: ModelSource }
  | { type: "unload"; id: number; key: string }
  | { type: "run"; id: number; request: JobRequest }
  | { type: "cancel"; id: number };

/** What the main thread learns of a loaded model. */
export interface LoadedModelInfo {
  key: string;
  variant: string;
  imageSize: number;
  parameters: number;
  preset: string | null;
  /** The sampling settings the checkpoint recommends (null: the pipelines' defaults). */
  recommendedSampling: RecommendedSampling | null;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** A PipelineError's option at fault. */
  option?: string | null;
}

export type FromWorker =
  | { type: "progress"; id: number; event: ProgressEvent }
  | { type: "loaded"; id: number; info: LoadedModelInfo }
  | { type: "done"; id: number; result: PipelineResult | null }
  | { type: "error"; id: number; error: SerializedError };

/** An error as it travels to the thread or process that revives it. */
export function serializedError(error: unknown): SerializedError {
  const e = error instanceof Error ? error : new Error(String(error));
  const option = e instanceof PipelineError ? e.option : null;
  return { name: e.name, message: e.message, stack: e.stack, ...(option ? { option } : {}) };
}
