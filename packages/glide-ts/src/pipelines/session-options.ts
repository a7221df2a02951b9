// The one SessionOptions object of a pipeline run: `session`, with the `threads` and `device` shorthands folded in.
import { resolveDevice } from "../runtime/device.ts";
import type { SessionOptions } from "../runtime/session.ts";
import { PipelineError } from "./errors.ts";
import { checkPrecisionOnProvider, deviceForPrecision } from "./precision-device.ts";
import type { CommonOptions } from "./types.ts";

/** The session options of a run; `device` (when given) settles the execution provider. */
export async function resolveSession(
  options: Pick<CommonOptions, "session" | "threads" | "device" | "precision">,
): Promise<SessionOptions> {
  const session = { ...options.session };
  const device = deviceForPrecision(options.device, options.precision);
  if (device !== undefined) session.executionProvider = (await resolveDevice(device)).executionProvider;
  checkPrecisionOnProvider(options.precision, session.executionProvider);
  if (options.threads !== undefined) session.threads = options.threads;
  const threads = session.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 1024)) {
    throw new PipelineError(`threads must be an integer from 1 to 1024, got ${threads}`);
  }
  return session;
}
