// Defaults and checks shared by every dataset format.
import type { DataPosition, DatasetOptions } from "./dataset.ts";
import { DatasetError } from "./dataset.ts";
import type { SplitFilter } from "./split.ts";

export interface ResolvedOptions {
  resolution: number;
  seed: number;
  shuffle: boolean;
  epochs: number;
  position: DataPosition;
  split: SplitFilter | undefined;
  shuffleBuffer: number;
  prefetch: number;
  onSkip: ((key: string, reason: string) => void) | undefined;
}

export function resolveOptions(options: DatasetOptions): ResolvedOptions {
  const { resolution, seed = 0, shuffle = true, epochs = Number.POSITIVE_INFINITY } = options;
  const { shuffleBuffer = 1000, prefetch = 8, split } = options;
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new RangeError(`resolution must be a positive integer, got ${resolution}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(epochs > 0)) throw new RangeError(`epochs must be positive, got ${epochs}`);
  if (!Number.isInteger(shuffleBuffer) || shuffleBuffer < 1) {
    throw new RangeError(`shuffleBuffer must be a positive integer, got ${shuffleBuffer}`);
  }
  if (!Number.isInteger(prefetch) || prefetch < 1)
    throw new RangeError(`prefetch must be a positive integer, got ${prefetch}`);
  if (split && !(split.validationFraction >= 0 && split.validationFraction <= 1)) {
    throw new RangeError(`split.validationFraction must be in [0, 1], got ${split.validationFraction}`);
  }
  const position = checkPosition(options.position ?? { epoch: 0, index: 0 });
  return { resolution, seed, shuffle, epochs, position, split, shuffleBuffer, prefetch, onSkip: options.onSkip };
}

function checkPosition(position: DataPosition): DataPosition {
  const { epoch, index, shard, offset } = position;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (
    !count(epoch) ||
    !count(index) ||
    (shard !== undefined && !count(shard)) ||
    (offset !== undefined && !count(offset))
  ) {
    throw new DatasetError(`invalid data position ${JSON.stringify(position)}: expected non-negative integers`);
  }
  return { ...position };
}

/** Applies `load` to items in order, keeping up to `window` loads in flight; yields results in order. */
export async function* mapAhead<T, R>(items: Iterable<T>, load: (item: T) => Promise<R>, window: number) {
  const iterator = items[Symbol.iterator]();
  const pending: Promise<R>[] = [];
  const refill = () => {
    while (pending.length < window) {
      const next = iterator.next();
      if (next.done) return;
      pending.push(load(next.value));
    }
  };
  refill();
  while (pending.length > 0) {
    const result = await pending.shift()!;
    refill();
    yield result;
  }
}
