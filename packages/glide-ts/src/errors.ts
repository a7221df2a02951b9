// The one error vocabulary: every error a user can cause (bad input, a missing model, an impossible
// option, a cancelled run) is a GlideError, whatever layer throws it; anything else is a bug.

/** An error the user can act on: its message says what is wrong and what to do. */
export class GlideError extends Error {
  override name = "GlideError";
}

/** A run stopped by its AbortSignal, between two steps. */
export class CancelledError extends GlideError {
  override name = "CancelledError";
}

/** Throws a CancelledError when `signal` has been aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, what = "the run"): void {
  if (signal?.aborted) throw new CancelledError(`${what} was cancelled`);
}

/** Whether an error is the user's to fix (as opposed to a bug to report). */
export function isUserError(error: unknown): error is GlideError {
  return error instanceof GlideError;
}
