// Figures that move with the sampler and its steps even while a model ignores its captions:
// convergence (how close a deterministic sampler's picture is to a many-step solution of the same
// ODE from the same noise) and the distance of a picture to its nearest training picture, measured
// on the caption-match signatures, with the held-out corpus pictures' own distance as the scale.
import type { RgbImage } from "glide-ts";
import { squaredDistance } from "./caption-match.ts";
import type { CorpusIndex } from "./corpus-index.ts";
import { type FigureSummary, psnr, summarize } from "./image-quality.ts";

/** The reference solver: DPM-Solver++ solves the same probability-flow ODE as DDIM and PLMS. */
export const REFERENCE_SAMPLER = "dpm++2m";

/** Samplers whose picture is a function of the starting noise alone (DDPM draws noise every step). */
export function isDeterministic(sampler: string): boolean {
  return sampler === "ddim" || sampler === "plms" || sampler === "dpm++2m";
}

/** PSNR of each sample against the reference drawn from the same seed; pairs in order. */
export function convergence(samples: readonly RgbImage[], references: readonly RgbImage[]): FigureSummary | null {
  if (samples.length !== references.length) {
    throw new RangeError(`${samples.length} samples and ${references.length} references`);
  }
  return summarize(samples.map((s, i) => psnr(s, references[i]!)));
}

/**
 * The RMS difference per signature value (model units, [-1, 1] pictures) between `query` and the
 * closest of `pool`: 0 for a copy of a pool picture.
 */
export function nearestDistance(pool: readonly Float32Array[], query: Float32Array): number {
  let best = Number.POSITIVE_INFINITY;
  for (const s of pool) best = Math.min(best, squaredDistance(s, query));
  return Math.sqrt(best / query.length);
}

/** The training pictures' signatures of an index. */
export function trainingSignatures(index: CorpusIndex): Float32Array[] {
  return index.signatures.filter((_, i) => index.splits[i] === "train");
}

/**
 * Each held-out picture's distance to its nearest training picture: what a new picture of the
 * corpus's kind scores (a sample far above it looks like nothing in the corpus; one near 0 copies).
 */
export function heldOutDistances(index: CorpusIndex, pool = trainingSignatures(index)): number[] {
  return index.signatures.filter((_, i) => index.splits[i] === "validation").map((s) => nearestDistance(pool, s));
}
