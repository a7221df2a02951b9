// GLIDE's networks: configuration (reference keyword names), presets, and the model that builds
// the text-encoder and U-Net graphs from a configuration and a state dict.
export {
  type GlideConfig,
  GlideConfigError,
  type GlideVariant,
  modelAndDiffusionDefaults,
  modelAndDiffusionDefaultsUpsampler,
  N_VOCAB,
  resolveConfig,
  type UNetStructure,
  unetStructure,
  validateConfig,
  variantOf,
} from "./config.ts";
export {
  type BuiltGraph,
  GlideModel,
  type GlideModelOptions,
  parameterShapes,
  type UNetGraphOptions,
} from "./model.ts";
export { PRESET_NAMES, type PresetName, presetConfig } from "./presets.ts";
export { declareTextEmbeddings, type TextEmbeddings, TextEncoder, type TextEncoderOutputs } from "./text-encoder.ts";
export { UNet, type UNetInputs } from "./unet.ts";
