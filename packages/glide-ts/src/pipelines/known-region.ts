// Tensor helpers for editing: one picture repeated over a batch, and a mask carried to another
// resolution the way the reference does it (F.interpolate, mode "nearest").

/** [C, H, W] repeated n times: [n, C, H, W]. */
export function repeatImage(image: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * image.length);
  for (let k = 0; k < n; k++) out.set(image, k * image.length);
  return out;
}

/** [N, 1, from, from] → [N, 1, to, to]: each target pixel takes source pixel floor(i · from / to). */
export function resizeMaskNearest(mask: Float32Array, from: number, to: number): Float32Array {
  const n = mask.length / (from * from);
  if (!Number.isInteger(n))
    throw new RangeError(`a mask of ${mask.length} values is not made of ${from}×${from} planes`);
  if (from === to) return mask;
  const out = new Float32Array(n * to * to);
  const source = Array.from({ length: to }, (_, i) => Math.min(from - 1, Math.floor((i * from) / to)));
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < to; y++) {
      const row = k * from * from + source[y] * from;
      for (let x = 0; x < to; x++) out[k * to * to + y * to + x] = mask[row + source[x]];
    }
  }
  return out;
}
