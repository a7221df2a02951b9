// The progress events of one sampling stage: timing, an estimate of the time left, and (every k
// steps, when asked) the predicted x₀ as images — cheap, since the sampler computes it anyway.
import { tensorToImages } from "../image/pixels.ts";
import { PipelineError } from "./errors.ts";
import type { CommonOptions, Stage } from "./types.ts";

export interface StageCallbacks {
  onSetup: () => void;
  onStep: (step: number, total: number, predXStart?: Float32Array) => void;
}

export function checkPreviewEvery(every: number | undefined): number {
  const k = every ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new PipelineError(`previewEvery must be a non-negative integer, got ${k}`);
  return k;
}

/** Callbacks for sampleModel that turn its steps into `options.onProgress` events. */
export function stageProgress(
  stage: Stage,
  options: Pick<CommonOptions, "onProgress" | "previewEvery">,
  shape: () => number[],
): StageCallbacks {
  const report = options.onProgress;
  const every = checkPreviewEvery(options.previewEvery);
  let started = 0;
  return {
    onSetup: () => report?.({ kind: "setup", stage }),
    onStep: (step, total, predXStart) => {
      if (!report) return;
      const now = performance.now();
      if (step === 0) started = now;
      const elapsedSeconds = (now - started) / 1000;
      const etaSeconds = step > 0 ? (elapsedSeconds / step) * (total - step) : null;
      const wantsPreview = every > 0 && step > 0 && (step % every === 0 || step === total);
      const preview = wantsPreview && predXStart ? tensorToImages(predXStart, shape()) : undefined;
      report({ kind: "step", stage, step, total, elapsedSeconds, etaSeconds, ...(preview ? { preview } : {}) });
    },
  };
}
