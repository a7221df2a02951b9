// Errors across a worker-thread boundary: sent as name + message, revived with their class, so a
// user's mistake in a job stays a GlideError (a 400) on the HTTP side.
import { CancelledError, GlideError } from "../errors.ts";
import { GlideConfigError } from "../glide/config.ts";
import { ImageError } from "../image/errors.ts";
import { CheckpointError } from "../io/errors.ts";
import { PipelineError } from "../pipelines/errors.ts";

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  GlideError,
  CancelledError,
  PipelineError,
  ImageError,
  CheckpointError,
  StateDictMismatchError: CheckpointError,
  GlideConfigError,
};

export function serializeError(error: unknown): SerializedError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message, stack: e.stack };
}

export function reviveError(error: SerializedError): Error {
  const revived = new (ERROR_CLASSES[error.name] ?? Error)(error.message);
  if (!(error.name in ERROR_CLASSES)) revived.name = error.name;
  if (error.stack) revived.stack = `${revived.stack}\n    --- in the worker ---\n${error.stack}`;
  return revived;
}
