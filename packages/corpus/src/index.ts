// @glide-ts/corpus: the corpus builder behind `glide data build`.
export { buildCorpus } from "./build-corpus.ts";
export { OPENCLIPART_DIR } from "./openclipart.ts";
export { DEFAULT_SHAPES } from "./shapes.ts";
export { SOURCE_NAMES, type SourceName } from "./types.ts";
