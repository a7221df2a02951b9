// Folder and JSONL datasets: the pairs are known up front, so each epoch is a full permutation
// seeded by (seed, epoch), and a position {epoch, index} is restored exactly in O(1).
import { readFile } from "node:fs/promises";
import type { DataPosition, Dataset, DatasetFormat, Sample } from "./dataset.ts";
import { DatasetError } from "./dataset.ts";
import { loadSample } from "./load-sample.ts";
import type { ResolvedOptions } from "./options.ts";
import { mapAhead } from "./options.ts";
import { identity, permutation, rngFor } from "./order.ts";
import { SkipCounter } from "./skipped.ts";
import { inSplit } from "./split.ts";

/** One pair of an indexed dataset; the caption is inline (JSONL) or in a file (folder). */
export interface IndexedEntry {
  key: string;
  imagePath: string;
  caption?: string;
  captionPath?: string;
}

export class IndexedDataset implements Dataset {
  readonly skipped: SkipCounter;
  readonly size: number;
  readonly resolution: number;
  private readonly entries: IndexedEntry[];
  private epoch: number;
  private index: number;
  private iterating = false;

  constructor(
    readonly source: string,
    readonly format: DatasetFormat,
    allEntries: IndexedEntry[],
    private readonly options: ResolvedOptions,
  ) {
    this.entries = allEntries.filter((e) => inSplit(e.key, options.split));
    this.size = this.entries.length;
    if (this.size === 0) {
      const what = options.split ? ` in the ${options.split.split} split` : "";
      throw new DatasetError(`no image–caption pairs${what} in ${source}`);
    }
    const { epoch, index, shard } = options.position;
    if (shard !== undefined) {
      throw new DatasetError(
        `data position ${JSON.stringify(options.position)} was saved from tar shards, not ${source}`,
      );
    }
    if (index > this.size) {
      throw new DatasetError(
        `data position index ${index} is beyond the ${this.size} pairs of ${source} (has the dataset changed?)`,
      );
    }
    this.epoch = epoch;
    this.index = index;
    this.resolution = options.resolution;
    this.skipped = new SkipCounter(options.onSkip);
    this.rollOver();
  }

  position(): DataPosition {
    return { epoch: this.epoch, index: this.index };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Sample> {
    if (this.iterating) throw new Error(`dataset ${this.source} is already being iterated`);
    this.iterating = true;
    try {
      while (this.epoch < this.options.epochs) {
        const order = this.orderOf(this.epoch);
        const fromStart = this.index === 0;
        let delivered = 0;
        const positions = range(this.index, this.size);
        for await (const loaded of mapAhead(
          positions,
          (i) => this.load(this.entries[order[i]!]!),
          this.options.prefetch,
        )) {
          this.index++;
          this.rollOver();
          if (loaded.ok) {
            delivered++;
            yield loaded.sample;
          } else this.skipped.record(loaded.key, loaded.reason);
        }
        // Without this, a dataset whose every image is corrupt would loop forever yielding nothing.
        if (fromStart && delivered === 0) throw unreadable(this.source, this.size, this.skipped);
      }
    } finally {
      this.iterating = false;
    }
  }

  /** The permutation of entries for one epoch. */
  orderOf(epoch: number): Uint32Array {
    return this.options.shuffle
      ? permutation(this.size, rngFor(this.options.seed, "epoch", epoch))
      : identity(this.size);
  }

  // At the end of an epoch the position moves to the start of the next one at once, so a position
  // saved right after the last sample already says which epoch comes next.
  private rollOver(): void {
    if (this.index === this.size) {
      this.epoch++;
      this.index = 0;
    }
  }

  private load(entry: IndexedEntry) {
    const { caption, captionPath } = entry;
    const readCaption = caption !== undefined ? async () => caption : () => readFile(captionPath!, "utf8");
    return loadSample(entry.key, () => readFile(entry.imagePath), readCaption, this.options.resolution);
  }
}

/** Every pair of a whole epoch was skipped. */
export function unreadable(source: string, count: number, skipped: SkipCounter): DatasetError {
  const key = skipped.keys[0];
  const example = key === undefined ? "" : ` (${key}: ${skipped.reason(key)})`;
  return new DatasetError(`none of the ${count} pairs in ${source} could be read${example}`);
}

function* range(start: number, end: number): Generator<number> {
  for (let i = start; i < end; i++) yield i;
}
