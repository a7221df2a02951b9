// What users call: text → image, editing, variations, upsampling, and loading models for them. The
// library API behind `glide generate`, `glide edit` and `glide upsample`.

export { PRECISIONS, type Precision } from "../int8/plan.ts";
export { type ClipGuidanceOptions, checkClipGuidance } from "./clip-guidance.ts";
export { DEFAULT_EDIT_GUIDANCE, type EditOptions, edit } from "./edit.ts";
export { PipelineError } from "./errors.ts";
export { type ClipSource, loadClip, towerStateDict } from "./load-clip.ts";
export {
  type LoadedModel,
  loadModel,
  type ModelSource,
  readCheckpoint,
  readStateDict,
  recognizePreset,
} from "./load-model.ts";
export { checkPreviewEvery } from "./progress.ts";
export { checkStrength, type StartFrom } from "./sample-model.ts";
export {
  type SamplingChoice,
  type SamplingFormDefaults,
  samplingChoice,
  samplingFormDefaults,
} from "./sampling-defaults.ts";
export { releaseSessions } from "./sessions.ts";
export { DEFAULT_GUIDANCE, type TextToImageOptions, textToImage } from "./text-to-image.ts";
export { DEFAULT_SAMPLER, type TwoStageOptions } from "./two-stage.ts";
export type {
  CommonOptions,
  PipelineResult,
  PipelineSettings,
  ProgressEvent,
  Stage,
  StageSettings,
  StageTiming,
  StepEvent,
  UpsampleStageOptions,
} from "./types.ts";
export {
  DEFAULT_UPSAMPLE_SAMPLER,
  DEFAULT_UPSAMPLE_STEPS,
  DEFAULT_UPSAMPLE_TEMPERATURE,
  type UpsampleOptions,
  upsample,
} from "./upsample.ts";
export { DEFAULT_VARIATION_STRENGTH, type VariationOptions, variation } from "./variation.ts";
