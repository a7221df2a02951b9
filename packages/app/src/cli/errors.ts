// The command line's user errors; both are GlideError kinds.
import { GlideError } from "glide-ts";

/**
 * A bad option value: commander recognises its code, so its parse step prints the usual one line
 * ("error: option '--steps <n>' argument '0' is invalid. …").
 */
export class OptionValueError extends GlideError {
  override name = "OptionValueError";
  /** What commander's InvalidArgumentError carries; commander reports errors with this code. */
  readonly code = "commander.invalidArgument";
  readonly exitCode = 1;
}

/** Options or arguments that do not go together (a file option without the option it belongs to, …). */
export class UsageError extends GlideError {
  override name = "UsageError";
}
