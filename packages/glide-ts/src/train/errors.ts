import { GlideError } from "../errors.ts";

/** A training run that cannot go on for a reason the user can act on (a diverging loss, too few pairs). */
export class TrainingError extends GlideError {
  override name = "TrainingError";
}
