// A run on WebGPU that fails for a reason of WebGPU's (no device, an operator or buffer its backend
// cannot handle, a lost device) is run again on WebAssembly, and the choice stays there for the
// page's later runs; the note says why. The request's own errors, cancellations and WebAssembly's
// failures are not retried.
import { isUserError } from "glide-ts";
import type { BackendChoice } from "./backend-choice.ts";

export interface FallbackControl {
  signal: AbortSignal;
  /** Called once, before the retry, with the WebAssembly choice (its notes end with why). */
  onFallback(choice: BackendChoice, note: string): void;
}

export async function runWithWasmFallback<T>(
  chosen: BackendChoice,
  run: (choice: BackendChoice) => Promise<T>,
  control: FallbackControl,
): Promise<T> {
  try {
    return await run(chosen);
  } catch (error) {
    if (chosen.kind !== "webgpu" || isUserError(error) || control.signal.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const note = `WebGPU failed (${reason}): running on WebAssembly`;
    const wasm: BackendChoice = { ...chosen, kind: "wasm", notes: [...chosen.notes, note] };
    control.onFallback(wasm, note);
    return run(wasm);
  }
}
