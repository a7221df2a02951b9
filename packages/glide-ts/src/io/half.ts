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

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The IEEE half bit pattern nearest to `value` (ties to even; overflow → ±Infinity; NaN kept). */
export function float32ToHalfBits(value: number): number {
  F32[0] = value;
  const bits = U32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExp = exp - 127 + 15;
  if (halfExp >= 0x1f) return sign | 0x7c00;
  if (halfExp <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit 1, rounding to nearest even.
    if (halfExp < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExp;
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (halfExp << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** Converts float32 values to IEEE half bit patterns. */
export function float32ToHalf(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = float32ToHalfBits(src[i]!);
  return out;
}
