// A port another program listens on is the user's to change: one line that says how.
import { GlideError } from "glide-ts";

export class PortInUseError extends GlideError {
  override name = "PortInUseError";

  constructor(readonly port: number) {
    super(`port ${port} is in use: choose another with --port`);
  }
}

/** The error to throw for a failed listen: a PortInUseError when the port was taken. */
export function listenError(error: unknown, port: number): unknown {
  return (error as { code?: string } | null)?.code === "EADDRINUSE" ? new PortInUseError(port) : error;
}
