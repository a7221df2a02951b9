// @glide-ts/eval: the evaluations behind `glide eval` and the training probe.
export {
  DEFAULT_PROBE_SETTINGS,
  PROBE_PROMPTS,
  type ProbeReport,
  probeMetrics,
  runCaptionProbe,
} from "./caption-probe.ts";
export { type ColourSensitivity, colourSensitivity } from "./colour-sensitivity.ts";
export { formatReport } from "./format-report.ts";
export { formatUpsampleReport } from "./format-upsample-report.ts";
export { checkEvalModel, type EvalPhase, runEval } from "./run-eval.ts";
export { checkUpsampleEvalModel, runUpsampleEval, type UpsampleEvalReport } from "./upsample-eval.ts";
export { WORD_KINDS, type WordGain, type WordKind, wordGain } from "./word-gain.ts";
