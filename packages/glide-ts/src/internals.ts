// glide-ts/internals: the library's inner modules that the project's own tools (eval, parity) and the
// `glide` application use beyond the public API. Not a stable interface: it changes with the code.
export {
  insidePolygons,
  type PlacedShape,
  placeShape,
  rasterizeScene,
  sceneSvg,
  shapePolygons,
} from "./data/shapes/geometry.ts";
export { generateShapeScenes } from "./data/shapes/scenes.ts";
export {
  HELD_OUT_PAIRS,
  isHeldOut,
  PLACE_PHRASES,
  type PlaceName,
  placeOfPoint,
  SHAPE_COLOUR_NAMES,
  SHAPE_COLOURS,
  SHAPE_NAMES,
  SHAPE_SIZE_NAMES,
  type ShapeColour,
  type ShapeName,
} from "./data/shapes/vocabulary.ts";
export { DEFAULT_VALIDATION_FRACTION, keyFraction, type SplitName, splitOf } from "./data/split.ts";
export { withGradient } from "./diffusion/condition.ts";
export { GaussianDiffusion } from "./diffusion/gaussian.ts";
export { classifierFreeGuidance, epsVarianceModel, type NetworkFn } from "./diffusion/guidance.ts";
export { forceKnownRegion } from "./diffusion/inpaint.ts";
export type { EpsModel } from "./diffusion/model.ts";
export { replayNoise } from "./diffusion/noise.ts";
export { spaceTimesteps } from "./diffusion/respace.ts";
export { sample } from "./diffusion/sample.ts";
export { createSampler, DEFAULT_SAMPLER_STEPS, type SamplerSpec } from "./diffusion/samplers/index.ts";
export { type BetaScheduleName, betaSchedule } from "./diffusion/schedule.ts";
export { unencodableText } from "./glide/tokenizer.ts";
export * as graph from "./graph/index.ts";
export { resizeSquare } from "./image/decode.ts";
export { imageToTensor } from "./image/pixels.ts";
export { calibrationFeeds } from "./int8/unet-plan.ts";
export { readSafetensors } from "./io/safetensors.ts";
export type { SafetensorsFile } from "./io/safetensors-format.ts";
export { SPARSE_ROWS_METADATA, sparseRowsSummary } from "./io/sparse-rows.ts";
export { revive } from "./jobs/job-runner.ts";
export { type SerializedError, serializedError } from "./jobs/protocol.ts";
export { catalogFiles } from "./models/catalog.ts";
export { pictureModelOf } from "./models/picture-model.ts";
export { ImageNoise } from "./pipelines/image-seeds.ts";
export { checkBatchSize, checkPrecision, MAX_GUIDANCE, samplerSpec } from "./pipelines/options.ts";
export { checkPrecisionOnProvider, deviceForPrecision } from "./pipelines/precision-device.ts";
export { textFeeds } from "./pipelines/text-features.ts";
export { upsampleSettings, upsampleStage } from "./pipelines/upsample.ts";
export type { StateDict } from "./platform/data-types.ts";
export type { CompiledGraph, HostArray } from "./runtime/session.ts";
export { SOFTWARE } from "./software.ts";
export { lowResFromImages } from "./train/batch-lowres.ts";
export { evaluateLossAndGradients } from "./train/loss-gradients.ts";
export { buildTrainingGraph } from "./train/objective-graph.ts";
export { buildValidationSet, captionGain, LossEvaluator } from "./train/validation.ts";
export { Rng } from "./util/rng.ts";
export { checkInRange, checkIntegerInRange, checkPositiveInteger } from "./validate.ts";
