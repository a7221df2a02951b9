// Keeping an upsampler's output consistent with its low-resolution input: every prediction of x₀
// (and the final sample) is projected onto the pictures whose f×f block means are the low-res
// pixels, x₀ ← x₀ + up(lowRes − down(x₀)), with `down` the block mean and `up` its pseudo-inverse
// (each low-res pixel repeated over its block; down(up(y)) = y). The model still draws every
// detail finer than a block; the colours and layout of the input cannot drift (a small upsampler
// otherwise tints white backgrounds). The null-space projection of DDNM (Wang et al. 2022) for a
// box-filter downsampling, which is how the trainer makes its low-res inputs.

import type { DenoisedFn, XtFn } from "./model.ts";

/** The block means of `x` [N, C, S, S] over f×f blocks: [N, C, S/f, S/f]. */
export function blockMeans(x: Float32Array, size: number, factor: number): Float32Array {
  const low = size / factor;
  const planes = x.length / (size * size);
  const out = new Float32Array(planes * low * low);
  const scale = 1 / (factor * factor);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < size; y++) {
      const row = p * size * size + y * size;
      const outRow = p * low * low + Math.floor(y / factor) * low;
      for (let xx = 0; xx < size; xx++) out[outRow + Math.floor(xx / factor)]! += x[row + xx]! * scale;
    }
  }
  return out;
}

/**
 * x + up(target − down(x)) for `x` [N, C, S, S] and `target` [N, C, S/f, S/f]: afterwards the
 * block means of the result are `target` exactly (up to float rounding). `means`: down(x), when
 * the caller has it already.
 */
export function projectOntoLowRes(
  x: Float32Array,
  target: Float32Array,
  size: number,
  factor: number,
  means = blockMeans(x, size, factor),
): Float32Array {
  const low = size / factor;
  const planes = x.length / (size * size);
  if (target.length !== planes * low * low) {
    throw new RangeError(`low-res target has ${target.length} values, expected ${planes * low * low}`);
  }
  const out = new Float32Array(x.length);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < size; y++) {
      const row = p * size * size + y * size;
      const lowRow = p * low * low + Math.floor(y / factor) * low;
      for (let xx = 0; xx < size; xx++) {
        const block = lowRow + Math.floor(xx / factor);
        out[row + xx] = x[row + xx]! + target[block]! - means[block]!;
      }
    }
  }
  return out;
}

export interface LowResConsistency {
  /** For every x₀ prediction. */
  denoisedFn: DenoisedFn;
  /** For the final sample (x_t is left alone: its block means carry the noise). */
  xtFn: XtFn;
}

/** Alternations between the two constraints at most; each one costs a pass over the pixels. */
const MAX_ALTERNATIONS = 32;
/** Largest block-mean error accepted (1/80 of an 8-bit level in [-1, 1]). */
const TOLERANCE = 1e-4;

/**
 * The hooks that keep samples of `size` consistent with `lowRes` [N, 3, l, l] (l = size / factor),
 * as the samples' rows are laid out (N images). Pixels live in [-1, 1] as well: the projection and
 * the clamp alternate until both hold (projections onto two convex sets), so a white block stays
 * exactly white instead of keeping detail the clamp would cut to a grey mean.
 */
export function lowResConsistency(lowRes: Float32Array, lowResSize: number, size: number): LowResConsistency {
  if (!Number.isInteger(lowResSize) || lowResSize < 1 || size % lowResSize !== 0) {
    throw new RangeError(`the low-res side ${lowResSize} must divide the sample side ${size}`);
  }
  const factor = size / lowResSize;
  const consistent = (x: Float32Array) => {
    let y = clamp(projectOntoLowRes(x, lowRes, size, factor));
    for (let i = 1; i < MAX_ALTERNATIONS; i++) {
      // One pass for the block means serves both the check and the next projection.
      const means = blockMeans(y, size, factor);
      if (largestError(means, lowRes) <= TOLERANCE) break;
      y = clamp(projectOntoLowRes(y, lowRes, size, factor, means));
    }
    return y;
  };
  return {
    denoisedFn: (xStart) => consistent(xStart),
    xtFn: (x, t) => (t === null ? consistent(x) : x),
  };
}

function largestError(means: Float32Array, target: Float32Array): number {
  let largest = 0;
  for (let i = 0; i < means.length; i++) largest = Math.max(largest, Math.abs(means[i]! - target[i]!));
  return largest;
}

function clamp(x: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(-1, x[i]!));
  return x;
}
