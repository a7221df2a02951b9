// CRC-32 as zip (and PNG, gzip) use it: the reflected polynomial 0xEDB88320, computed
// incrementally over chunks. Eight bytes a step through eight tables ("slicing by 8"): about twice
// as fast as one byte a step, which matters for a checkpoint of gigabytes.

const TABLES = makeTables();
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const EMPTY = new Uint32Array(0);

/** The CRC-32 of `bytes` continuing from `crc` (the CRC of everything before; 0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  // Whole 32-bit words from an aligned offset; single bytes before and after.
  const head = LITTLE_ENDIAN_HOST ? Math.min(n, (4 - (bytes.byteOffset & 3)) & 3) : n;
  for (; i < head; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  const words = ((n - i) >>> 3) << 1;
  const w = words > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + i, words) : EMPTY;
  for (let j = 0; j < words; j += 2) {
    const lo = c ^ w[j]!;
    const hi = w[j + 1]!;
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^
      t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
  }
  for (i += words * 4; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Table k (at 256·k) advances the CRC of a byte followed by k zero bytes. */
function makeTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[256 * k + n] = (t[256 * (k - 1) + n]! >>> 8) ^ t[t[256 * (k - 1) + n]! & 0xff]!;
  }
  return t;
}
