import { GlideError } from "../errors.ts";

/** A CLIP configuration, checkpoint, vocabulary or input that cannot work; one line for the user. */
export class ClipError extends GlideError {
  override name = "ClipError";
}
