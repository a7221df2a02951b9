/** A pipeline option or input that cannot work (bad sampler, step count, model kind, …); one line for the user. */
export class PipelineError extends Error {
  override name = "PipelineError";
}
