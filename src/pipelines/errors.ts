import { GlideError } from "../errors.ts";

/** A pipeline option or input that cannot work (bad sampler, step count, model kind, …); one line for the user. */
export class PipelineError extends GlideError {
  override name = "PipelineError";
}
