// Errors as the OpenAI API reports them: an HTTP status and {"error": {message, type, param, code}}.
// Every failure a request can meet is turned into one of these by `toApiError`.
import { CancelledError, DeviceMemoryError, GlideError, ImageError, PipelineError, PromptError } from "glide-ts";
import { JobTimeoutError, QueueClosedError, QueueFullError, QueueUnavailableError } from "./queue/job-queue.ts";

export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface ApiErrorDetails {
  type?: string;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  override name = "ApiError";
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    details: ApiErrorDetails = {},
  ) {
    super(message);
    this.type = details.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.param = details.param ?? null;
    this.code = details.code ?? null;
    this.headers = details.headers ?? {};
  }

  body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: a field that is missing, of the wrong type or out of range. */
export function invalidField(param: string, message: string, code = "invalid_value"): ApiError {
  return new ApiError(400, message, { param, code });
}

/** The status and body for any error a request handler met. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof QueueFullError) {
    return new ApiError(429, error.message, {
      type: "rate_limit_error",
      code: "queue_full",
      headers: { "retry-after": String(error.retryAfterSeconds) },
    });
  }
  if (error instanceof QueueClosedError) {
    return new ApiError(503, error.message, { code: "shutting_down", headers: { "retry-after": "5" } });
  }
  if (error instanceof QueueUnavailableError) {
    return new ApiError(503, error.message, {
      code: error.code,
      headers: { "retry-after": String(error.retryAfterSeconds) },
    });
  }
  if (error instanceof JobTimeoutError) return new ApiError(504, error.message, { code: "job_timeout" });
  if (error instanceof CancelledError) return new ApiError(503, error.message, { code: "cancelled" });
  // The server's GPU, not the request, is short: a smaller request or a later retry may pass.
  if (error instanceof DeviceMemoryError) {
    return new ApiError(503, error.message, { code: "out_of_gpu_memory", headers: { "retry-after": "5" } });
  }
  // Bad sampler, unreadable image, a mask that keeps everything, …: the user's to fix.
  if (error instanceof GlideError) {
    return new ApiError(400, error.message, { code: "invalid_value", param: paramOf(error) });
  }
  // The framework's and its plugins' refusals (a body that is not JSON, a broken multipart body, a
  // file too large): their status, in our words for the code, never a framework code.
  const status = statusOf(error);
  if (status !== null && status >= 400 && status < 500) {
    const code = status === 413 ? "payload_too_large" : "invalid_request";
    return new ApiError(status, (error as Error).message, { code, param: "body" });
  }
  return new ApiError(500, "the server failed on this request; its log has the details", { code: "internal_error" });
}

/** The pipelines' option names that the API calls otherwise. */
const API_PARAMS: Readonly<Record<string, string>> = {
  guidanceScale: "guidance",
  batchSize: "n",
  upsampleSampler: "sampler",
  upsampleSteps: "steps",
};

/** The request field a user error is about: the option a pipeline names, else what the error is of. */
function paramOf(error: GlideError): string {
  if (error instanceof PipelineError && error.option) return API_PARAMS[error.option] ?? error.option;
  if (error instanceof PromptError) return "prompt";
  if (error instanceof ImageError) return /^(mask\b|the image's alpha channel)/.test(error.message) ? "mask" : "image";
  return "body";
}

/** The HTTP status a library error carries (fastify's and its plugins' errors have `statusCode`). */
function statusOf(error: unknown): number | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : null;
}
