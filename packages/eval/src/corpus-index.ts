// Every pair of a dataset read once at the model's resolution, by the training preprocessing:
// each picture's signature (for the nearest-neighbour search), its caption and its side of the
// trainer's train/validation split.
import { openDataset, type RgbImage, tensorToImages } from "glide-ts";
import { type SplitName, splitOf } from "glide-ts/internals";
import { signature } from "./caption-match.ts";

export interface CorpusIndex {
  source: string;
  /** In the dataset's own order; the three arrays are parallel. */
  captions: string[];
  splits: SplitName[];
  signatures: Float32Array[];
  /** Pictures that could not be read (not in the index). */
  skipped: number;
  /** The 8-bit pictures of the captions asked for in `keep`, by caption. */
  kept: Map<string, RgbImage[]>;
}

export interface CorpusIndexOptions {
  resolution: number;
  /** The trainer's held-out share (by key hash); 0 puts every pair in train, as the trainer does. */
  validationFraction: number;
  /** Captions whose pictures to keep (e.g. the colour test's prompts, for a reference). */
  keep?: ReadonlySet<string>;
  /** After each picture, with the pairs read and the dataset's size. */
  onPair?: (done: number, total: number | undefined) => void;
}

export async function indexCorpus(data: string, options: CorpusIndexOptions): Promise<CorpusIndex> {
  const { resolution, validationFraction } = options;
  const dataset = await openDataset(data, { resolution, shuffle: false, epochs: 1 });
  const index: CorpusIndex = {
    source: dataset.source,
    captions: [],
    splits: [],
    signatures: [],
    skipped: 0,
    kept: new Map(),
  };
  for await (const sample of dataset) {
    if (options.keep?.has(sample.caption)) {
      const kept = index.kept.get(sample.caption) ?? [];
      kept.push(tensorToImages(sample.image, [1, 3, resolution, resolution])[0]!);
      index.kept.set(sample.caption, kept);
    }
    index.captions.push(sample.caption);
    index.splits.push(splitOf(sample.key, validationFraction));
    index.signatures.push(signature(sample.image, resolution));
    options.onPair?.(index.captions.length, dataset.size);
  }
  index.skipped = dataset.skipped.keys.length;
  return index;
}

/** The captions of one side of the split. */
export function captionsOf(index: CorpusIndex, split: SplitName): string[] {
  return index.captions.filter((_, i) => index.splits[i] === split);
}
