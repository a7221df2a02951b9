import { GlideError } from "../errors.ts";

/**
 * A checkpoint or tensor file that cannot be read: missing, truncated, corrupt, unsafe, or not the
 * expected format. The message names the file and what was expected.
 */
export class CheckpointError extends GlideError {
  override name = "CheckpointError";
}
