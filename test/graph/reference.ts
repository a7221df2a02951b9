// Plain TypeScript references for the graph ops, in float64, written from the definitions (PyTorch
// semantics) and independent of the graph code: forward tests compare against them, and gradient
// tests difference them.

/** A dense row-major float64 array. */
export interface Arr {
  shape: number[];
  data: Float64Array;
}

export function arr(shape: readonly number[], data: ArrayLike<number | bigint>): Arr {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  if (out.length !== size(shape)) throw new Error(`reference: ${out.length} values for shape [${shape}]`);
  return { shape: [...shape], data: out };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function unravel(index: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = index % shape[i]!;
    index = Math.floor(index / shape[i]!);
  }
  return idx;
}

export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) throw new Error(`reference: shapes do not broadcast`);
      if (v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

/** Offset into an array of `shape` for an index of a (broadcast) shape of rank ≥ its own. */
function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const lead = idx.length - shape.length;
  const s = strides(shape);
  let off = 0;
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) off += idx[lead + i]! * s[i]!;
  return off;
}

/** Elementwise f over arrays broadcast together. */
export function mapN(xs: readonly Arr[], f: (...v: number[]) => number): Arr {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(...xs.map((x) => x.data[broadcastOffset(idx, x.shape)]!));
  }
  return { shape, data: out };
}

export const map = (x: Arr, f: (v: number) => number): Arr => mapN([x], f);

/** erf to ~1e-15: the all-positive series erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let term = ax;
  let total = ax;
  for (let n = 0; term > 1e-17 * total; n++) {
    term *= (2 * ax * ax) / (2 * n + 3);
    total += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * total;
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
export const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** Batched a[..., M, K] · b[..., K, N] with broadcasting over the batch axes. */
export function matmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  const out = new Float64Array(size(batch) * m * n);
  for (let t = 0; t < size(batch); t++) {
    const idx = unravel(t, batch);
    const ao = broadcastOffset(idx, aBatch) * m * k;
    const bo = broadcastOffset(idx, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p]! * b.data[bo + p * n + j]!;
        out[t * m * n + i * n + j] = s;
      }
    }
  }
  return { shape: [...batch, m, n], data: out };
}

export function transpose(x: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => x.shape[p]!);
  const xs = strides(x.shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let off = 0;
    perm.forEach((p, k) => {
      off += idx[k]! * xs[p]!;
    });
    out[i] = x.data[off]!;
  }
  return { shape, data: out };
}

/** Like torch.nn.functional.conv2d with groups 1. */
export function conv2d(x: Arr, w: Arr, b: Arr | null, stride = 1, padding = 0, dilation = 1): Arr {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = w.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * padding - dilation * (kh - 1) - 1) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - dilation * (kw - 1) - 1) / stride) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let ni = 0; ni < n; ni++) {
    for (let oi = 0; oi < o; oi++) {
      for (let y = 0; y < oh; y++) {
        for (let xo = 0; xo < ow; xo++) {
          let s = b ? b.data[oi]! : 0;
          for (let ci = 0; ci < c; ci++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const yy = y * stride - padding + i * dilation;
                const xx = xo * stride - padding + j * dilation;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                s += x.data[((ni * c + ci) * h + yy) * wd + xx]! * w.data[((oi * c + ci) * kh + i) * kw + j]!;
              }
            }
          }
          out[((ni * o + oi) * oh + y) * ow + xo] = s;
        }
      }
    }
  }
  return { shape: [n, o, oh, ow], data: out };
}

/** Sum (or mean) over axes. */
export function reduce(x: Arr, axes: readonly number[], keepdims: boolean, mean = false): Arr {
  const ax = axes.map((a) => (a < 0 ? a + x.shape.length : a));
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = new Float64Array(size(kept));
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, k) => (ax.includes(k) ? 0 : v));
    out[broadcastOffset(idx, kept)]! += x.data[i]!;
  }
  const count = x.data.length / out.length;
  if (mean) for (let i = 0; i < out.length; i++) out[i]! /= count;
  return { shape: keepdims ? kept : x.shape.filter((_, i) => !ax.includes(i)), data: out };
}

/** Views x as [outer, x.shape[axis], inner]. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [size(shape.slice(0, axis)), shape[axis]!, size(shape.slice(axis + 1))];
}

export function concat(xs: readonly Arr[], axis: number): Arr {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  const [outer, total, inner] = around(shape, axis);
  const out = new Float64Array(size(shape));
  let start = 0;
  for (const x of xs) {
    const len = x.shape[axis]!;
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < len; a++) {
        for (let i = 0; i < inner; i++) out[(o * total + start + a) * inner + i] = x.data[(o * len + a) * inner + i]!;
      }
    }
    start += len;
  }
  return { shape, data: out };
}

export function slice(x: Arr, axis: number, start: number, end: number): Arr {
  const [outer, len, inner] = around(x.shape, axis);
  const shape = [...x.shape];
  shape[axis] = end - start;
  const out = new Float64Array(size(shape));
  for (let o = 0; o < outer; o++) {
    for (let a = start; a < end; a++) {
      for (let i = 0; i < inner; i++)
        out[(o * (end - start) + a - start) * inner + i] = x.data[(o * len + a) * inner + i]!;
    }
  }
  return { shape, data: out };
}

export function pad(x: Arr, axis: number, before: number, after: number): Arr {
  const [outer, len, inner] = around(x.shape, axis);
  const shape = [...x.shape];
  shape[axis] = len + before + after;
  const out = new Float64Array(size(shape));
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < len; a++) {
      for (let i = 0; i < inner; i++)
        out[(o * shape[axis]! + before + a) * inner + i] = x.data[(o * len + a) * inner + i]!;
    }
  }
  return { shape, data: out };
}

/** Rows of `table` picked by `indices` (of shape `indexShape`). */
export function gather(table: Arr, indices: readonly number[], indexShape: readonly number[]): Arr {
  const row = size(table.shape.slice(1));
  const out = new Float64Array(indices.length * row);
  indices.forEach((r, k) => {
    out.set(table.data.subarray(r * row, (r + 1) * row), k * row);
  });
  return { shape: [...indexShape, ...table.shape.slice(1)], data: out };
}

/** Normalizes each of `groups` consecutive runs of `len` values, then scales by w[channel(i)] and shifts by b. */
function normalizeRuns(x: Arr, len: number, eps: number, affine: (i: number, v: number) => number): Arr {
  const out = new Float64Array(x.data.length);
  for (let start = 0; start < x.data.length; start += len) {
    let mu = 0;
    for (let i = 0; i < len; i++) mu += x.data[start + i]!;
    mu /= len;
    let v = 0;
    for (let i = 0; i < len; i++) v += (x.data[start + i]! - mu) ** 2;
    v /= len;
    for (let i = 0; i < len; i++) out[start + i] = affine(start + i, (x.data[start + i]! - mu) / Math.sqrt(v + eps));
  }
  return { shape: [...x.shape], data: out };
}

export function groupNorm(x: Arr, w: Arr, b: Arr, groups: number, eps = 1e-5): Arr {
  const c = x.shape[1]!;
  const spatial = size(x.shape.slice(2));
  return normalizeRuns(x, (c / groups) * spatial, eps, (i, v) => {
    const ch = Math.floor(i / spatial) % c;
    return v * w.data[ch]! + b.data[ch]!;
  });
}

export function layerNorm(x: Arr, w: Arr, b: Arr, eps = 1e-5): Arr {
  const c = x.shape[x.shape.length - 1]!;
  return normalizeRuns(x, c, eps, (i, v) => v * w.data[i % c]! + b.data[i % c]!);
}

export function softmax(x: Arr): Arr {
  const c = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let s = 0; s < x.data.length; s += c) {
    const row = x.data.subarray(s, s + c);
    const m = Math.max(...row);
    let z = 0;
    for (let i = 0; i < c; i++) z += Math.exp(row[i]! - m);
    for (let i = 0; i < c; i++) out[s + i] = Math.exp(row[i]! - m) / z;
  }
  return { shape: [...x.shape], data: out };
}

/** Builds an [N, C, oh, ow] array from each [H, W] plane of x: out[i, j] = f(plane accessor, i, j). */
function perPlane(
  x: Arr,
  oh: number,
  ow: number,
  f: (at: (i: number, j: number) => number, i: number, j: number) => number,
): Arr {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    const at = (i: number, j: number) => x.data[(p * h + i) * w + j]!;
    for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) out[(p * oh + i) * ow + j] = f(at, i, j);
  }
  return { shape: [n, c, oh, ow], data: out };
}

export function avgPool2x2(x: Arr): Arr {
  const [, , h, w] = x.shape as [number, number, number, number];
  return perPlane(
    x,
    h / 2,
    w / 2,
    (at, i, j) => (at(2 * i, 2 * j) + at(2 * i, 2 * j + 1) + at(2 * i + 1, 2 * j) + at(2 * i + 1, 2 * j + 1)) / 4,
  );
}

export function upsampleNearest2x(x: Arr): Arr {
  const [, , h, w] = x.shape as [number, number, number, number];
  return perPlane(x, 2 * h, 2 * w, (at, i, j) => at(Math.floor(i / 2), Math.floor(j / 2)));
}

/** PyTorch's F.interpolate(mode="bilinear", align_corners=False) source index and weight. */
function source(dst: number, inSize: number, outSize: number): [number, number, number] {
  const src = Math.max(((dst + 0.5) * inSize) / outSize - 0.5, 0);
  const i0 = Math.floor(src);
  const i1 = Math.min(i0 + 1, inSize - 1);
  return [i0, i1, src - i0];
}

export function resizeBilinear(x: Arr, oh: number, ow: number): Arr {
  const [, , h, w] = x.shape as [number, number, number, number];
  return perPlane(x, oh, ow, (at, i, j) => {
    const [y0, y1, ly] = source(i, h, oh);
    const [x0, x1, lx] = source(j, w, ow);
    return (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
  });
}
