import { GlideError } from "../errors.ts";

/** A pipeline option or input that cannot work (bad sampler, step count, model kind, …); one line for the user. */
export class PipelineError extends GlideError {
  override name = "PipelineError";

  /** `option`: the option at fault, by its name in the pipelines' options (e.g. "steps"), when it is one. */
  constructor(
    message: string,
    readonly option: string | null = null,
  ) {
    super(message);
  }
}
