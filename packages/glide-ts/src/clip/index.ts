// GLIDE's noised CLIP: configuration, tokenizer, the two towers, and the guidance gradient.
export { cleanClipText } from "./clean-text.ts";
export { type ClipConfig, expLogitScale, releasedClipConfig, resolveClipConfig, validateClipConfig } from "./config.ts";
export { ClipError } from "./errors.ts";
export { type ClipGradientOptions, clipGradient, clipTextEmbeddings } from "./guidance.ts";
export {
  CLIP_TOWERS,
  type ClipGraph,
  ClipModel,
  type ClipModelOptions,
  type ClipTower,
  clipParameterShapes,
  normalizeEmbedding,
} from "./model.ts";
export {
  CLIP_END_TOKEN,
  CLIP_START_TOKEN,
  CLIP_VOCAB_SIZE,
  CLIP_VOCABULARY_FILE,
  ClipTokenizer,
  type ClipTokens,
} from "./tokenizer.ts";
export { clipVocabularyText, loadClipTokenizer } from "./vocabulary.ts";
