// glide-ts, the core: what runs on any JavaScript platform. Text → image, editing and upsampling
// with GLIDE networks built from a configuration and a state dict, run by the platform's ONNX
// Runtime. Applications import `glide-ts` (src/node.ts in Node, src/browser.ts in a bundler for the
// browser), which sets the platform up and re-exports all of this.

export * from "./clip/index.ts";
export { DEFAULT_SAMPLER_STEPS, SAMPLER_NAMES, type SamplerName } from "./diffusion/samplers/index.ts";
export { CancelledError, GlideError, isUserError } from "./errors.ts";
export {
  type GlideConfig,
  GlideConfigError,
  type GlideVariant,
  modelAndDiffusionDefaults,
  modelAndDiffusionDefaultsUpsampler,
  resolveConfig,
} from "./glide/config.ts";
export { GlideModel, type GlideModelOptions, parameterShapes, type RecommendedSampling } from "./glide/model.ts";
export { PRESET_NAMES, type PresetName, presetConfig } from "./glide/presets.ts";
export { encodeText, PromptError, tokenizeCaption } from "./glide/tokenizer.ts";
export { decodeImage, type ImageSource, RESIZE_FITS, type ResizeFit } from "./image/decode.ts";
export { encodePng } from "./image/encode.ts";
export { ImageError } from "./image/errors.ts";
export {
  hasTransparency,
  isRedrawn,
  type KeepMapOptions,
  keepMap,
  MASK_RULE,
  type MaskMode,
  maskMode,
  REDRAW_BELOW_BRIGHTNESS,
  REDRAW_MAX_ALPHA,
} from "./image/mask.ts";
export { imageGrid, type RawImage, type RgbImage, tensorToImages } from "./image/pixels.ts";
export { type CheckpointContents, checkpointFromBytes } from "./io/checkpoint-contents.ts";
export { CheckpointError } from "./io/errors.ts";
export { parseSafetensors } from "./io/safetensors-format.ts";
export * from "./pipelines/index.ts";
export {
  type FileAccess,
  type ImageCodec,
  type InferenceEngine,
  type Platform,
  platform,
  setPlatform,
} from "./platform/platform.ts";
export * from "./png-parameters.ts";
export { DEVICES, type Device, DeviceError, type ResolvedDevice, resolveDevice } from "./runtime/device.ts";
export { DeviceMemoryError } from "./runtime/device-memory.ts";
export type { ExecutionProvider, SessionOptions } from "./runtime/session.ts";
export { InvalidValueError } from "./validate.ts";
