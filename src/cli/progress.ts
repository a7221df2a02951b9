// Progress on stderr for the sampling commands. On a terminal: one bar per stage, redrawn in place,
// with steps/s and the time left. Elsewhere (a pipe, a log file): no bar, one summary line per stage.

import type { ProgressEvent } from "../pipelines/types.ts";
import { ProgressBar, type ProgressStream } from "../util/progress-bar.ts";

/** A pipeline progress handler that shows a bar per stage (none at all when `quiet`). */
export function stageProgress(stream: ProgressStream = process.stderr, quiet = false): (event: ProgressEvent) => void {
  let bar: ProgressBar | null = null;
  return (event) => {
    if (quiet) return;
    const label = event.stage === "base" ? "sampling" : "upsampling";
    if (event.kind === "setup") {
      if (stream.isTTY) stream.write(`\r\x1b[K${label}: preparing the model…`);
      return;
    }
    if (event.step === 0) {
      bar = new ProgressBar(label, event.total, { stream });
      bar.start();
    } else {
      bar?.update(event.step);
    }
  };
}
