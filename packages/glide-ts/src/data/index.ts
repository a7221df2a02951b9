// Datasets of image–caption pairs for training. (The corpus builder, ./corpus/build-corpus.ts, is
// imported on its own: it loads the SVG renderer.)
export type { DataPosition, Dataset, DatasetFormat, DatasetOptions, Sample, SkippedImages } from "./dataset.ts";
export { DatasetError } from "./dataset.ts";
export { trainingImage } from "./decode-image.ts";
export { openDataset } from "./open-dataset.ts";
export type { SplitFilter, SplitName } from "./split.ts";
export { keyFraction, splitOf } from "./split.ts";
