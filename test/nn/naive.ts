// Straightforward float64 loops implementing the reference layers, to check the graph versions
// against. NCHW, row-major Float32Array in, Float64Array out.
import type * as g from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph } from "../../packages/glide-ts/src/runtime/session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

export type Arr = ArrayLike<number>;

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

export function maxAbsDiff(a: Arr, b: Arr): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Compiles and runs `outputs` with float32 feeds (parameters must have values). */
export async function runGraph(
  outputs: Record<string, g.Tensor>,
  feeds: Record<string, Float32Array>,
): Promise<Record<string, Float32Array>> {
  const session = await CompiledGraph.compile(outputs, { params: "initializers", threads: 1 });
  try {
    return (await session.run(feeds)) as Record<string, Float32Array>;
  } finally {
    await session.release();
  }
}

export function conv2d(
  x: Arr,
  [n, c, h, w]: number[],
  weight: Arr,
  bias: Arr,
  o: number,
  k: number,
  stride = 1,
  pad = 0,
) {
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias[oc]!;
          for (let ic = 0; ic < c; ic++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = y * stride + ky - pad;
                const ix = xx * stride + kx - pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += x[((b * c + ic) * h + iy) * w + ix]! * weight[((oc * c + ic) * k + ky) * k + kx]!;
              }
          out[((b * o + oc) * oh + y) * ow + xx] = s;
        }
  return { out, shape: [n, o, oh, ow] };
}

export function groupNorm(
  x: Arr,
  [n, c, ...rest]: number[],
  weight: Arr,
  bias: Arr,
  groups = 32,
  eps = 1e-5,
): Float64Array {
  const hw = rest.reduce((p, d) => p * d, 1);
  const per = (c / groups) * hw;
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++)
    for (let gi = 0; gi < groups; gi++) {
      const start = (b * c + gi * (c / groups)) * hw;
      let mean = 0;
      for (let i = 0; i < per; i++) mean += x[start + i]!;
      mean /= per;
      let v = 0;
      for (let i = 0; i < per; i++) v += (x[start + i]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / per + eps);
      for (let i = 0; i < per; i++) {
        const ch = gi * (c / groups) + Math.floor(i / hw);
        out[start + i] = (x[start + i]! - mean) * rstd * weight[ch]! + bias[ch]!;
      }
    }
  return out;
}

export const silu = (x: Arr): Float64Array => Float64Array.from(x, (v) => v / (1 + Math.exp(-v)));

/** x [rows, in] · Wᵀ [in, out] + b. */
export function linear(x: Arr, rows: number, weight: Arr, bias: Arr, inF: number, outF: number): Float64Array {
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = bias[o]!;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * weight[o * inF + i]!;
      out[r * outF + o] = s;
    }
  return out;
}

export function upsampleNearest(x: Arr, [n, c, h, w]: number[]): Float64Array {
  const out = new Float64Array(n * c * 4 * h * w);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < 2 * h; y++)
      for (let xx = 0; xx < 2 * w; xx++) out[(p * 2 * h + y) * 2 * w + xx] = x[(p * h + (y >> 1)) * w + (xx >> 1)]!;
  return out;
}

export function avgPool(x: Arr, [n, c, h, w]: number[]): Float64Array {
  const out = new Float64Array((n * c * h * w) / 4);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < h / 2; y++)
      for (let xx = 0; xx < w / 2; xx++) {
        const at = (dy: number, dx: number) => x[(p * h + 2 * y + dy) * w + 2 * xx + dx]!;
        out[(p * (h / 2) + y) * (w / 2) + xx] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4;
      }
  return out;
}

export function softmaxRows(x: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    let m = -Infinity;
    for (let i = 0; i < cols; i++) m = Math.max(m, x[r * cols + i]!);
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp(x[r * cols + i]! - m);
    for (let i = 0; i < cols; i++) out[r * cols + i] = Math.exp(x[r * cols + i]! - m) / s;
  }
  return out;
}

export { Rng };
