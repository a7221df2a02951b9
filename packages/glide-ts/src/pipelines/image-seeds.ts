// Every image of a run has its own seed: image i of a run with seed S draws all its noise (the
// starting noise and every step's, in both stages) from a generator seeded with S + i. So image i
// is made again alone with seed S + i and a batch of 1, pixel for pixel.

import { Rng } from "../util/rng.ts";
import { PipelineError } from "./errors.ts";

/** The seeds of a run's images: S, S + 1, …, S + count − 1. */
export function imageSeeds(seed: number, count: number): number[] {
  if (seed > Number.MAX_SAFE_INTEGER - (count - 1)) {
    throw new PipelineError(`seed ${seed} is too large for ${count} images (each image uses seed + its index)`, "seed");
  }
  return Array.from({ length: count }, (_, i) => seed + i);
}

/** Standard normal noise for a batch whose image i comes from its own generator (seed S + i). */
export class ImageNoise {
  private readonly generators: Rng[];

  constructor(readonly seeds: readonly number[]) {
    this.generators = seeds.map((seed) => new Rng(seed));
  }

  /** `length` values laid out [N, …]: each image's equal share drawn from that image's generator. */
  normalArray(length: number): Float32Array {
    const n = this.generators.length;
    if (length % n !== 0) throw new RangeError(`noise of ${length} values does not split over ${n} images`);
    const share = length / n;
    const out = new Float32Array(length);
    this.generators.forEach((rng, i) => {
      rng.fillNormal(out.subarray(i * share, (i + 1) * share));
    });
    return out;
  }
}
