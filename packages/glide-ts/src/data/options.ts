// Defaults and checks shared by every dataset format.

import { checkInRange, checkInteger, checkPositive, checkPositiveInteger } from "../validate.ts";
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
  checkPositiveInteger(resolution, "resolution");
  checkInteger(seed, "seed");
  if (epochs !== Number.POSITIVE_INFINITY) checkPositive(epochs, "epochs");
  checkPositiveInteger(shuffleBuffer, "shuffleBuffer");
  checkPositiveInteger(prefetch, "prefetch");
  if (split) checkInRange(split.validationFraction, "split.validationFraction", 0, 1);
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
