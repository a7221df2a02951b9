// The messages between a VariationRunner and its worker thread (structured-cloneable).
import type { ModelSource } from "../pipelines/load-model.ts";
import type { PipelineResult, ProgressEvent } from "../pipelines/types.ts";
import type { VariationOptions } from "./variation.ts";
import type { SerializedError } from "./worker-errors.ts";

export type VariationJobOptions = Omit<VariationOptions, "model" | "onProgress" | "signal">;

export type ToVariationWorker =
  | { type: "load"; id: number; source: ModelSource }
  | { type: "run"; id: number; options: VariationJobOptions }
  | { type: "cancel"; id: number };

export type FromVariationWorker =
  | { type: "progress"; id: number; event: ProgressEvent }
  | { type: "done"; id: number; result: PipelineResult | null }
  | { type: "error"; id: number; error: SerializedError };
