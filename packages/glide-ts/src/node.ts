// glide-ts in Node: the core on the Node platform (onnxruntime-node, sharp, files), plus what only
// Node has: checkpoint files of every format, the released checkpoints' download cache, the
// models shipped in models/, PNG files, a worker-thread job runner, datasets and training.
// (The server, the evaluations and the corpus builder are the packages @glide-ts/app, @glide-ts/eval
// and @glide-ts/corpus.)
import "./platform/node.ts";

// What the command line uses (and any Node application may): the rest of the Node side.
export { openDataset } from "./data/open-dataset.ts";
export { SAMPLER_NAMES } from "./diffusion/samplers/index.ts";
export { resolveCacheDir } from "./download/cache-dir.ts";
export type { CheckpointName } from "./download/checkpoints.ts";
export {
  type CacheEntry,
  CHECKPOINT_NAMES,
  CHECKPOINTS,
  cacheStatus,
  checkCheckpointName,
  checkpointAliases,
  checkpointNamesText,
  checkpointUrl,
  DownloadError,
  type DownloadProgress,
  type DownloadResult,
  downloadCheckpoint,
  type FileStatus,
  formatBytes,
  remoteSize,
  requireCheckpoint,
  resolveBaseUrl,
} from "./download/checkpoints.ts";
export {
  CLIP_VOCABULARY,
  clipVocabularyPath,
  clipVocabularyStatus,
  downloadClipVocabulary,
  needsClipVocabulary,
  resolveClipVocabularyUrl,
} from "./download/clip-vocabulary.ts";
export { GlideError } from "./errors.ts";
export type { GlideConfig } from "./glide/config.ts";
export {
  compareShapes,
  configFromInferred,
  InferConfigError,
  type InferredConfig,
  inferConfig,
  isExactMatch,
  matchingPresets,
  NOT_INFERABLE,
} from "./glide/infer-config.ts";
export { parameterShapes } from "./glide/model.ts";
export { PRESET_NAMES, presetConfig } from "./glide/presets.ts";
export { encodeText } from "./glide/tokenizer.ts";
export { type ImageSource, RESIZE_FITS } from "./image/decode.ts";
export { imageGrid, type RawImage, type RgbImage, tensorToImages } from "./image/pixels.ts";
export { numberedPath, writePng } from "./image/write.ts";
export * from "./index.ts";
export { countParameters } from "./io/check-state-dict.ts";
export type { CheckpointFile } from "./io/checkpoint-file.ts";
export {
  type CheckpointFormat,
  convertToSafetensors,
  loadCheckpointFile,
  sameFile,
  sourceDtypes,
} from "./io/checkpoint-file.ts";
export { checkWritableDirectory, makeDirectory } from "./io/directory.ts";
export { sha256File } from "./io/file-digest.ts";
export { type JobOptions, JobRunner } from "./jobs/job-runner.ts";
export type { JobRequest, LoadedModelInfo } from "./jobs/protocol.ts";
export type { CatalogModel } from "./models/catalog.ts";
export {
  CATALOG,
  CATALOG_HINT,
  catalogModel,
  DEFAULT_MODEL_FAMILY,
  MODEL_FAMILIES,
  MODEL_FAMILY_NAMES,
  type ModelFamily,
  modelPath,
  presentBytes,
} from "./models/catalog.ts";
export { type ClipChoice, type ClipFiles, loadClipFor, resolveClipFiles } from "./models/clip.ts";
export {
  loadModelsFor,
  loadUpsamplerFor,
  type ModelChoice,
  type ModelJob,
  modelFamily,
  namedModelSource,
} from "./models/resolve.ts";
export type { ParamValue } from "./nn/params.ts";
export { DEFAULT_EDIT_GUIDANCE, edit } from "./pipelines/edit.ts";
export { PipelineError } from "./pipelines/errors.ts";
export { configFrom, type LoadedModel, loadModel } from "./pipelines/load-model.ts";
export { DEFAULT_GUIDANCE, textToImage } from "./pipelines/text-to-image.ts";
export { DEFAULT_SAMPLER } from "./pipelines/two-stage.ts";
export type { PipelineResult, ProgressEvent, Stage, StageTiming } from "./pipelines/types.ts";
export {
  DEFAULT_UPSAMPLE_SAMPLER,
  DEFAULT_UPSAMPLE_STEPS,
  DEFAULT_UPSAMPLE_TEMPERATURE,
  upsample,
} from "./pipelines/upsample.ts";
export { DEFAULT_VARIATION_STRENGTH, type VariationOptions, variation } from "./pipelines/variation.ts";
export { nodePlatform } from "./platform/node.ts";

export { TrainingError } from "./train/errors.ts";
export { type LossWeighting, lossWeights, parseLossWeighting } from "./train/loss-weighting.ts";
export type { TrainSummary } from "./train/trainer.ts";
export { type StepProgress, type TrainOptions, train } from "./train/trainer.ts";
export { ProgressBar, type ProgressStream } from "./util/progress-bar.ts";
