// float16 / bfloat16 bit patterns → float32.

const HALF_TABLE = buildHalfTable();

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return table;
}

/** Converts `src` (IEEE half bit patterns) into `dst[dstOffset ...]`. */
export function halfToFloat32(src: Uint16Array, dst: Float32Array, dstOffset = 0): void {
  for (let i = 0; i < src.length; i++) dst[dstOffset + i] = HALF_TABLE[src[i]!]!;
}

/** Converts `src` (bfloat16 bit patterns: the high half of a float32) into `dst[dstOffset ...]`. */
export function bfloat16ToFloat32(src: Uint16Array, dst: Float32Array, dstOffset = 0): void {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset + dstOffset * 4, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
}
