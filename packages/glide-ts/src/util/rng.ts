// The project's one source of randomness: a seeded xoshiro128** generator.
//
// Everything random (start noise, sampler noise, training timesteps and noise, caption dropout)
// draws from an Rng, so the same seed gives the same stream bit for bit, and getState/setState
// let training resume exactly where it stopped. The stream is plain 32-bit integer arithmetic;
// normal() uses Math.log/sqrt/cos/sin, which are deterministic for a given Node build.
import { checkInteger } from "../validate.ts";

/** A serializable snapshot of an Rng (plain JSON). */
export interface RngState {
  /** The four 32-bit words of the xoshiro128** state. */
  s: [number, number, number, number];
  /** The second Box–Muller value, kept for the next normal() call (null when none is cached). */
  spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const TWO_PI = 2 * Math.PI;
const MASK64 = (1n << 64n) - 1n;

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  /** `seed`: any integer (a number up to 2^53, or a bigint); 0 is fine. */
  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** Re-seed in place. SplitMix64 expands the seed so that nearby seeds give unrelated streams. */
  seed(seed: number | bigint): void {
    if (typeof seed === "number") checkInteger(seed, "the Rng seed");
    let z = BigInt(seed) & MASK64;
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      z = (z + 0x9e3779b97f4a7c15n) & MASK64;
      let x = z;
      x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
      x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & MASK64;
      x ^= x >> 31n;
      words.push(Number(x & 0xffffffffn), Number(x >> 32n));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // xoshiro must not start from the all-zero state (SplitMix64 practically never gives it).
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spareNormal = null;
  }

  /** The next raw 32-bit output, an integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** A standard normal N(0, 1) (Box–Muller; the pair's second value is cached, and is part of the state). */
  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    const u1 = 1 - this.uniform(); // in (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fill `out` with standard normal values (rounded to float32) and return it. */
  fillNormal(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** A new Float32Array of `length` standard normal values. */
  normalArray(length: number): Float32Array {
    return this.fillNormal(new Float32Array(length));
  }

  /** An integer uniform in [0, n), without modulo bias; 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int needs an integer n in [1, 2^32], got ${n}`);
    }
    // Reject the top partial block of 2^32 so that every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spareNormal: this.spareNormal };
  }

  setState(state: RngState): void {
    const { s, spareNormal } = state;
    if (!Array.isArray(s) || s.length !== 4 || !s.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)) {
      throw new TypeError("Rng state: `s` must hold four 32-bit unsigned integers");
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new TypeError("Rng state: all-zero state is invalid");
    if (spareNormal !== null && typeof spareNormal !== "number") {
      throw new TypeError("Rng state: `spareNormal` must be a number or null");
    }
    [this.s0, this.s1, this.s2, this.s3] = s.map((w) => w | 0) as [number, number, number, number];
    this.spareNormal = spareNormal;
  }

  /** An independent copy at the same point of the stream. */
  clone(): Rng {
    const copy = new Rng(0);
    copy.setState(this.getState());
    return copy;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
