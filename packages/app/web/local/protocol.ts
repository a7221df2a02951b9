// The messages between the page (LocalBackend) and the Web Worker that runs the core. Everything
// here is structured-clonable: Blobs go both ways, errors cross as their name and message.
import type { BackendInfo, ImageOptions, Progress, ResultPicture } from "../ui/backend.ts";
import type { BackendRequest } from "./backend-choice.ts";

export type Job =
  | { kind: "generate"; options: ImageOptions }
  | { kind: "edit"; options: ImageOptions; image: Blob; mask: Blob };

export type ToWorker =
  /** The first message: where the built folder is, and the backend the page's URL asks for. */
  | { type: "init"; baseUrl: string; request: BackendRequest; upsample: boolean; notes: string[] }
  | { type: "info"; id: number }
  | { type: "run"; id: number; job: Job }
  | { type: "cancel"; id: number };

export interface ErrorData {
  name: string;
  message: string;
}

export type FromWorker =
  | { type: "info"; id: number; info: BackendInfo }
  | { type: "progress"; id: number; progress: Progress }
  | { type: "done"; id: number; pictures: ResultPicture[] }
  | { type: "failed"; id: number; error: ErrorData }
  /** The backend changed on its own (WebGPU failed: WebAssembly from now on); not an answer to a request. */
  | { type: "backend"; info: BackendInfo };

/** The error a run's promise rejects with when its signal aborts it (the Backend contract). */
export function abortError(message = "the run was cancelled"): Error {
  return new DOMException(message, "AbortError");
}

export function errorData(error: unknown): ErrorData {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** A worker's error on the page side: cancellations become AbortErrors, the rest keep name and message. */
export function errorFromData(data: ErrorData): Error {
  if (data.name === "CancelledError" || data.name === "AbortError") return abortError(data.message);
  const error = new Error(data.message);
  error.name = data.name;
  return error;
}
