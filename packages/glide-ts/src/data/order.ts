// Deterministic orders: each epoch (and each shuffle block) gets its own generator derived from
// the dataset seed, so any point of the stream can be recomputed from (seed, epoch, block) alone.
import { createHash } from "node:crypto";
import { Rng } from "../util/rng.ts";

/** A generator for one named part of the stream, e.g. rngFor(seed, "epoch", 3). */
export function rngFor(seed: number, ...parts: (string | number)[]): Rng {
  const digest = createHash("sha256")
    .update(JSON.stringify([seed, ...parts]))
    .digest();
  return new Rng(digest.readBigUInt64LE(0));
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** 0..n-1 in order (for unshuffled passes, e.g. validation). */
export function identity(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}
