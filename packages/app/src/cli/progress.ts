// Progress on stderr for the sampling commands. On a terminal: one bar per stage, redrawn in place,
// with steps/s and the time left. Elsewhere (a pipe, a log file): no bar, one summary line per stage.

import { ProgressBar, type ProgressEvent, type ProgressStream, type Stage } from "glide-ts";

/**
 * A pipeline progress handler that shows a bar per stage (none at all when `quiet`). A stage whose
 * sampler is PLMS counts model evaluations, and its summary says how many were steps.
 */
export function stageProgress(
  stream: ProgressStream = process.stderr,
  quiet = false,
  samplers: Partial<Record<Stage, string>> = {},
): (event: ProgressEvent) => void {
  let bar: ProgressBar | null = null;
  let detail = "";
  return (event) => {
    if (quiet) return;
    const label = event.stage === "base" ? "sampling" : "upsampling";
    if (event.kind === "setup") {
      if (stream.isTTY) stream.write(`\r\x1b[K${label}: preparing the model…`);
      return;
    }
    if (event.step === 0) {
      const warmUp = warmUpEvaluations(samplers[event.stage], event.total);
      detail = warmUp > 0 ? `plms: ${event.total - warmUp} steps + ${warmUp} warm-up evaluation` : "";
      bar = new ProgressBar(label, event.total, { stream, unit: warmUp > 0 ? "evaluations" : "steps" });
      bar.start();
    } else {
      bar?.update(event.step, detail);
    }
  };
}

/** Model evaluations beyond a sampler's steps: PLMS evaluates its first step twice (when it has more than one). */
export function warmUpEvaluations(sampler: string | undefined, evaluations: number): number {
  return sampler === "plms" && evaluations > 1 ? 1 : 0;
}
