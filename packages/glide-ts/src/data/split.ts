// The held-out split: a pair belongs to validation when the hash of its key falls below the
// fraction, so the split is stable as a dataset grows, and the same in every format.
import { createHash } from "node:crypto";
import { checkInRange } from "../validate.ts";

export type SplitName = "train" | "validation";

/** The held-out share of every command that splits pairs, unless told otherwise. */
export const DEFAULT_VALIDATION_FRACTION = 0.02;

/** Keep only one side of the split; `validationFraction` in [0, 1]. */
export interface SplitFilter {
  split: SplitName;
  validationFraction: number;
}

/** A number in [0, 1) from the key's SHA-256 (48 bits). */
export function keyFraction(key: string): number {
  const digest = createHash("sha256").update(key, "utf8").digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function splitOf(key: string, validationFraction: number): SplitName {
  checkInRange(validationFraction, "the validation fraction", 0, 1);
  return keyFraction(key) < validationFraction ? "validation" : "train";
}

export function inSplit(key: string, filter: SplitFilter | undefined): boolean {
  return filter === undefined || splitOf(key, filter.validationFraction) === filter.split;
}
