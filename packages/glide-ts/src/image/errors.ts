import { GlideError } from "../errors.ts";

/**
 * An image or mask that cannot be used: unreadable, undecodable, of the wrong shape, or a mask
 * that leaves nothing to do. The message names the input and what was expected.
 */
export class ImageError extends GlideError {
  override name = "ImageError";
}
