// glide-ts in Node: the core on the Node platform (onnxruntime-node, sharp, files), plus what only
// Node has — checkpoint files of every format, the released checkpoints' download cache, the
// models shipped in models/, PNG files, a worker-thread job runner and training.
import "./platform/node.ts";

export { numberedPath, writePng } from "./image/write.ts";
export * from "./index.ts";
export { resolveCacheDir } from "./io/cache-dir.ts";
export { type CheckpointFile, convertToSafetensors, loadCheckpointFile } from "./io/checkpoint-file.ts";
export { CHECKPOINT_NAMES, type CheckpointName, DownloadError, downloadCheckpoint } from "./io/download.ts";
export { type JobOptions, JobRunner } from "./jobs/job-runner.ts";
export type { JobRequest, LoadedModelInfo } from "./jobs/protocol.ts";
export {
  CATALOG,
  type CatalogModel,
  catalogModel,
  DEFAULT_MODEL_FAMILY,
  MODEL_FAMILIES,
  MODEL_FAMILY_NAMES,
  type ModelFamily,
  modelPath,
} from "./models/catalog.ts";
export { nodePlatform } from "./platform/node.ts";
export { type StepProgress, type TrainOptions, type TrainSummary, train } from "./train/trainer.ts";
