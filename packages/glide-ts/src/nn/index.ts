// Building blocks with reference-named parameters: declare them in a ParamStore through Scopes,
// then call `forward` to build graph ops.
export { AttentionBlock, type AttentionBlockOptions, qkvAttention } from "./attention.ts";
export { type DropoutNoise, FedDropoutNoise } from "./dropout.ts";
export { countFlops, type FlopCount } from "./flops.ts";
export {
  Conv2d,
  type Conv2dOptions,
  Embedding,
  GroupNorm32,
  LayerNorm,
  type LayerOptions,
  Linear,
  PointwiseConv1d,
} from "./layers.ts";
export {
  type Initializer,
  type InitSpec,
  ParamStore,
  type ParamStoreOptions,
  type ParamValue,
  Scope,
  seededInitializer,
} from "./params.ts";
export { Downsample, ResBlock, type ResBlockOptions, Upsample } from "./resblock.ts";
export { timestepEmbedding, timestepFrequencies } from "./timestep-embedding.ts";
export { multiheadSelfAttention, ResidualAttentionBlock, Transformer } from "./transformer.ts";
