// WebDataset tar shards, streamed. Each epoch visits the shards in an order seeded by (seed, epoch)
// and shuffles the stream in blocks of `shuffleBuffer` samples: a block is read whole and emitted in
// an order seeded by (seed, epoch, block). Unlike a sliding shuffle buffer, the state at any point is
// a function of the position alone, so a restore re-reads at most one block (from the recorded shard
// and offset) and continues with exactly the same samples in the same order.
import type { DataPosition, Dataset, Sample } from "./dataset.ts";
import { DatasetError } from "./dataset.ts";
import { unreadable } from "./indexed-dataset.ts";
import { loadSample } from "./load-sample.ts";
import type { ResolvedOptions } from "./options.ts";
import { mapAhead } from "./options.ts";
import { identity, permutation, rngFor } from "./order.ts";
import { SkipCounter } from "./skipped.ts";
import { inSplit } from "./split.ts";
import type { RawSample } from "./tar-shard.ts";
import { readShard } from "./tar-shard.ts";

interface Cursor {
  /** Index into the epoch's shard order. */
  shard: number;
  /** Samples of that shard before this point. */
  offset: number;
}

export class ShardedDataset implements Dataset {
  readonly format = "webdataset";
  readonly size = undefined;
  readonly resolution: number;
  readonly skipped: SkipCounter;
  private epoch: number;
  private index: number;
  /** Where the block holding `index` starts. */
  private blockStart: Cursor;
  private iterating = false;

  constructor(
    readonly source: string,
    private readonly shards: readonly string[],
    private readonly options: ResolvedOptions,
  ) {
    const { epoch, index, shard = 0, offset = 0 } = options.position;
    if (index > 0 && (options.position.shard === undefined || options.position.offset === undefined)) {
      throw new DatasetError(
        `data position ${JSON.stringify(options.position)} has no shard and offset: it was not saved from tar shards`,
      );
    }
    if (shard > shards.length) {
      throw new DatasetError(`data position shard ${shard} is beyond the ${shards.length} shards of ${source}`);
    }
    this.epoch = epoch;
    this.index = index;
    this.blockStart = { shard, offset };
    this.resolution = options.resolution;
    this.skipped = new SkipCounter(options.onSkip);
  }

  position(): DataPosition {
    return { epoch: this.epoch, index: this.index, shard: this.blockStart.shard, offset: this.blockStart.offset };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Sample> {
    if (this.iterating) throw new Error(`dataset ${this.source} is already being iterated`);
    this.iterating = true;
    try {
      while (this.epoch < this.options.epochs) yield* this.restOfEpoch();
    } finally {
      this.iterating = false;
    }
  }

  private async *restOfEpoch(): AsyncGenerator<Sample> {
    const { shuffle, seed, shuffleBuffer, prefetch, resolution, split } = this.options;
    const epoch = this.epoch;
    const order = shuffle
      ? permutation(this.shards.length, rngFor(seed, "shards", epoch))
      : identity(this.shards.length);
    const fromStart = this.index === 0 && this.blockStart.shard === 0 && this.blockStart.offset === 0;
    const stream = this.samplesFrom(order, this.blockStart);
    let delivered = 0;
    try {
      for (;;) {
        const blockIndex = Math.floor(this.index / shuffleBuffer);
        const skipInBlock = this.index % shuffleBuffer;
        const block: RawSample[] = [];
        let next = this.blockStart;
        while (block.length < shuffleBuffer) {
          const item = await stream.next();
          if (item.done) break;
          next = item.value.next;
          if (inSplit(item.value.sample.key, split)) block.push(item.value.sample);
        }
        const last = block.length < shuffleBuffer;
        if (block.length === 0 && fromStart && blockIndex === 0) {
          const what = split ? ` in the ${split.split} split` : "";
          throw new DatasetError(`no samples${what} in the tar shards ${this.source}`);
        }
        if (skipInBlock > block.length) {
          throw new DatasetError(
            `data position ${JSON.stringify(this.position())} does not fit ${this.source} (have the shards changed?)`,
          );
        }
        const blockOrder = shuffle
          ? permutation(block.length, rngFor(seed, "block", epoch, blockIndex))
          : identity(block.length);
        const picks = [...blockOrder.subarray(skipInBlock)].map((i) => block[i]!);
        const blockEnd = blockIndex * shuffleBuffer + block.length;
        const loads = mapAhead(picks, (raw) => load(raw, resolution), prefetch);
        for await (const loaded of loads) {
          this.index++;
          if (this.index === blockEnd) this.blockStart = next;
          if (last && this.index === blockEnd) this.startEpoch(epoch + 1);
          if (loaded.ok) {
            delivered++;
            yield loaded.sample;
          } else this.skipped.record(loaded.key, loaded.reason);
        }
        if (last) {
          // Without this, shards whose every sample is unusable would loop forever yielding nothing.
          if (fromStart && delivered === 0) throw unreadable(this.source, blockEnd, this.skipped);
          if (this.epoch === epoch) this.startEpoch(epoch + 1); // an empty final block
          return;
        }
      }
    } finally {
      await stream.return(undefined);
    }
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.index = 0;
    this.blockStart = { shard: 0, offset: 0 };
  }

  /** Every sample from `start` on, with the cursor just after it. */
  private async *samplesFrom(order: Uint32Array, start: Cursor): AsyncGenerator<{ sample: RawSample; next: Cursor }> {
    for (let shard = start.shard; shard < order.length; shard++) {
      let offset = shard === start.shard ? start.offset : 0;
      for await (const sample of readShard(this.shards[order[shard]!]!, offset)) {
        offset++;
        yield { sample, next: { shard, offset } };
      }
    }
  }
}

function load(raw: RawSample, resolution: number) {
  const { key, image, caption } = raw;
  const readImage = async () => {
    if (image === undefined) throw new Error("no image file (png, jpg, jpeg or webp) for this key");
    return image;
  };
  const readCaption = async () => {
    if (caption === undefined) throw new Error("no caption file (txt) for this key");
    return caption;
  };
  return loadSample(key, readImage, readCaption, resolution);
}
