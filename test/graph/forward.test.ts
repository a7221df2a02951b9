// Every op's forward pass against a plain float64 TypeScript reference, on small random tensors.
// All checks go into one graph, compiled and run once.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { Tensor } from "../../packages/glide-ts/src/graph/index.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { assertClose, GraphBatch, randn, uniform } from "./helpers.ts";
import type { Arr } from "./reference.ts";
import * as ref from "./reference.ts";

interface Check {
  name: string;
  key: string;
  shape: readonly number[];
  dtype: string;
  expected: Arr;
  tol: { atol?: number; rtol?: number };
}

describe("forward passes match the float64 references", () => {
  const batch = new GraphBatch();
  const checks: Check[] = [];
  let seed = 1;

  /** A fed float32 input and its reference array. */
  const data = (shape: readonly number[], values?: Float32Array) => {
    const v = values ?? randn(ref.size(shape), seed++);
    return { t: batch.feed(v, shape), r: ref.arr(shape, v) };
  };
  const positive = (shape: readonly number[]) => data(shape, uniform(ref.size(shape), seed++, 0.3, 2.5));
  const check = (name: string, t: Tensor, expected: Arr, dtype = "float32", tol = { atol: 2e-5, rtol: 2e-5 }) => {
    checks.push({ name, key: batch.output(t), shape: t.shape, dtype, expected, tol });
  };

  // conv2d: kernel 1 and 3, stride 1 and 2, padding 0 and 1, with and without bias; odd and even sizes.
  for (const k of [1, 3]) {
    for (const stride of [1, 2]) {
      for (const padding of [0, 1]) {
        for (const withBias of [true, false]) {
          const x = data([2, 3, 7, 8]);
          const w = data([4, 3, k, k]);
          const b = withBias ? data([4]) : null;
          check(
            `conv2d k${k} stride ${stride} padding ${padding}${withBias ? " bias" : ""}`,
            g.conv2d(x.t, w.t, b?.t ?? null, { stride, padding }),
            ref.conv2d(x.r, w.r, b?.r ?? null, stride, padding),
            "float32",
            { atol: 1e-4, rtol: 1e-4 },
          );
        }
      }
    }
  }
  for (const [kh, kw, stride, padding] of [
    [1, 3, 1, 1],
    [3, 2, 2, 0],
    [3, 3, 1, 2],
  ] as const) {
    const x = data([2, 3, 6, 5]);
    const w = data([4, 3, kh, kw]);
    const b = data([4]);
    check(
      `conv2d k${kh}×${kw} stride ${stride} padding ${padding}`,
      g.conv2d(x.t, w.t, b.t, { stride, padding }),
      ref.conv2d(x.r, w.r, b.r, stride, padding),
      "float32",
      { atol: 1e-4, rtol: 1e-4 },
    );
  }
  {
    const x = data([1, 2, 9, 9]);
    const w = data([3, 2, 3, 3]);
    check(
      "conv2d dilation 2",
      g.conv2d(x.t, w.t, null, { padding: 2, dilation: 2 }),
      ref.conv2d(x.r, w.r, null, 1, 2, 2),
      "float32",
      { atol: 1e-4, rtol: 1e-4 },
    );
  }

  // matmul and linear
  for (const [as, bs] of [
    [
      [3, 4],
      [4, 5],
    ],
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    [
      [2, 1, 3, 4],
      [3, 4, 5],
    ],
    [
      [3, 4],
      [2, 4, 5],
    ],
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [1, 6],
      [6, 1],
    ],
  ] as const) {
    const a = data(as);
    const b = data(bs);
    check(`matmul [${as}]·[${bs}]`, g.matmul(a.t, b.t), ref.matmul(a.r, b.r), "float32", { atol: 1e-5, rtol: 1e-4 });
  }
  {
    const x = data([2, 3, 4]);
    const w = data([5, 4]);
    const b = data([5]);
    const wt = ref.transpose(w.r, [1, 0]);
    check(
      "linear with bias",
      g.linear(x.t, w.t, b.t),
      ref.mapN([ref.matmul(x.r, wt), b.r], (p, q) => p + q),
    );
    check("linear without bias", g.linear(x.t, w.t, null), ref.matmul(x.r, wt));
    check("transposeLast", g.transposeLast(x.t), ref.transpose(x.r, [0, 2, 1]));
  }

  // Elementwise binary ops with broadcasting (and plain numbers as operands).
  const binaries = [
    ["add", g.add, (p: number, q: number) => p + q],
    ["sub", g.sub, (p: number, q: number) => p - q],
    ["mul", g.mul, (p: number, q: number) => p * q],
    ["div", g.div, (p: number, q: number) => p / q],
    ["maximum", g.maximum, (p: number, q: number) => Math.max(p, q)],
  ] as const;
  for (const [name, op, f] of binaries) {
    for (const [as, bs] of [
      [
        [2, 3, 4],
        [2, 3, 4],
      ],
      [
        [2, 3, 4],
        [3, 1],
      ],
      [[4], [2, 1, 4]],
      [
        [2, 1, 4],
        [1, 3, 1],
      ],
      [[3], []],
    ] as const) {
      const a = data(as);
      // Keep divisors away from zero.
      const b = name === "div" ? data(bs, uniform(ref.size(bs), seed++, 0.5, 2)) : data(bs);
      check(`${name} [${as}] with [${bs}]`, op(a.t, b.t), ref.mapN([a.r, b.r], f), "float32", {
        atol: 1e-6,
        rtol: 1e-6,
      });
    }
    const a = data([2, 3]);
    check(
      `${name} with a number on the right`,
      op(a.t, 1.5),
      ref.map(a.r, (v) => f(v, 1.5)),
    );
    check(
      `${name} with a number on the left`,
      op(-0.75, a.t),
      ref.map(a.r, (v) => f(-0.75, v)),
    );
  }

  // Elementwise unary ops.
  const unaries = [
    ["neg", g.neg, (v: number) => -v, false],
    ["abs", g.abs, Math.abs, false],
    ["sign", g.sign, Math.sign, false],
    ["exp", g.exp, Math.exp, false],
    ["tanh", g.tanh, Math.tanh, false],
    ["sin", g.sin, Math.sin, false],
    ["cos", g.cos, Math.cos, false],
    ["erf", g.erf, ref.erf, false],
    ["sigmoid", g.sigmoid, ref.sigmoid, false],
    ["silu", g.silu, (v: number) => v * ref.sigmoid(v), false],
    ["gelu", g.gelu, ref.gelu, false],
    ["sqrt", g.sqrt, Math.sqrt, true],
    ["log", g.log, Math.log, true],
  ] as const;
  for (const [name, op, f, needsPositive] of unaries) {
    const x = needsPositive ? positive([3, 5]) : data([3, 5], randn(15, seed++, 2.5));
    check(name, op(x.t), ref.map(x.r, f), "float32", { atol: 2e-6, rtol: 2e-6 });
  }
  for (const exponent of [2, 3, 0.5, -1, 1.5, -0.5]) {
    const x = positive([2, 4]);
    check(
      `pow ${exponent}`,
      g.pow(x.t, exponent),
      ref.map(x.r, (v) => v ** exponent),
      "float32",
      {
        atol: 2e-6,
        rtol: 2e-6,
      },
    );
  }
  {
    const x = data([2, 4]);
    check(
      "pow 3 of negative values",
      g.pow(x.t, 3),
      ref.map(x.r, (v) => v ** 3),
    );
    assert.equal(g.pow(x.t, 1), x.t, "pow 1 is the identity");
    check(
      "clamp",
      g.clamp(x.t, -0.5, 0.7),
      ref.map(x.r, (v) => Math.min(Math.max(v, -0.5), 0.7)),
    );
    check(
      "clamp, one-sided",
      g.clamp(x.t, Number.NEGATIVE_INFINITY, 0.3),
      ref.map(x.r, (v) => Math.min(v, 0.3)),
    );
    check("stopGradient", g.stopGradient(x.t), x.r);
  }
  {
    // gelu and erf over a dense range, including the tails.
    const values = Float32Array.from({ length: 121 }, (_, i) => -6 + i * 0.1);
    const x = data([121], values);
    check("gelu on [-6, 6]", g.gelu(x.t), ref.map(x.r, ref.gelu), "float32", { atol: 1e-6, rtol: 1e-6 });
    check("erf on [-6, 6]", g.erf(x.t), ref.map(x.r, ref.erf), "float32", { atol: 1e-6, rtol: 1e-6 });
  }

  // Reductions.
  for (const axes of [undefined, 1, [0, 2], [-1], [1, 3], [0, 1, 2, 3]] as const) {
    for (const keepdims of [false, true]) {
      const x = data([2, 3, 4, 5]);
      const list = axes === undefined ? [0, 1, 2, 3] : typeof axes === "number" ? [axes] : axes;
      for (const [name, op, isMean] of [
        ["sum", g.sum, false],
        ["mean", g.mean, true],
      ] as const) {
        check(
          `${name} over ${JSON.stringify(axes) ?? "all"}${keepdims ? " keepdims" : ""}`,
          op(x.t, axes, keepdims),
          ref.reduce(x.r, list, keepdims, isMean),
          "float32",
          { atol: 1e-5, rtol: 1e-5 },
        );
      }
    }
  }

  {
    const x = data([2, 3]);
    check("sum over no axes is the identity", g.sum(x.t, []), x.r);
    check("mean over no axes is the identity", g.mean(x.t, [], true), x.r);
  }

  // Data movement.
  {
    const x = data([2, 3, 4]);
    check("reshape with -1", g.reshape(x.t, [6, -1]), { shape: [6, 4], data: x.r.data });
    check("reshape to a different rank", g.reshape(x.t, [4, 3, 2, 1]), { shape: [4, 3, 2, 1], data: x.r.data });
    check("transpose [2, 0, 1]", g.transpose(x.t, [2, 0, 1]), ref.transpose(x.r, [2, 0, 1]));
    check("transpose [1, 0, 2]", g.transpose(x.t, [1, 0, 2]), ref.transpose(x.r, [1, 0, 2]));
    const y = data([2, 3, 5, 2]);
    check("transpose rank 4", g.transpose(y.t, [0, 2, 3, 1]), ref.transpose(y.r, [0, 2, 3, 1]));
    for (const axis of [0, 1, 2, -1]) {
      const pieces = [1, 2, 3].map((n) => {
        const shape = [2, 3, 4];
        shape[(axis + 3) % 3] = n;
        return data(shape);
      });
      check(
        `concat along ${axis}`,
        g.concat(
          pieces.map((p) => p.t),
          axis,
        ),
        ref.concat(
          pieces.map((p) => p.r),
          (axis + 3) % 3,
        ),
      );
    }
    const z = data([2, 6, 3]);
    g.split(z.t, 1, [1, 3, 2]).forEach((part, i) => {
      const start = [0, 1, 4][i]!;
      const end = [1, 4, 6][i]!;
      check(`split piece ${i}`, part, ref.slice(z.r, 1, start, end));
    });
    check("slice on the last axis", g.slice(z.t, -1, 1, 3), ref.slice(z.r, 2, 1, 3));
    check("slice on the first axis", g.slice(z.t, 0, 1, 2), ref.slice(z.r, 0, 1, 2));
    check("padAxis", g.padAxis(z.t, 1, 2, 1), ref.pad(z.r, 1, 2, 1));
    check("padAxis after only", g.padAxis(z.t, -1, 0, 3), ref.pad(z.r, 2, 0, 3));
    const zeros = { shape: [2, 5, 3, 4], data: new Float64Array(120) };
    check(
      "expand",
      g.expand(g.reshape(x.t, [2, 1, 3, 4]), [2, 5, 3, 4]),
      ref.mapN([{ shape: [2, 1, 3, 4], data: x.r.data }, zeros], (p) => p),
    );
  }
  {
    const table = data([7, 3]);
    const indices = [0, 6, 2, 2, 5, 0, 1, 6];
    const idx = batch.feed(BigInt64Array.from(indices, BigInt), [2, 4]);
    check("gather (embedding lookup)", g.gather(table.t, idx), ref.gather(table.r, indices, [2, 4]));
    check(
      "gather with constant indices",
      g.gather(table.t, g.constant(BigInt64Array.from([3n, 1n]))),
      ref.gather(table.r, [3, 1], [2]),
    );
    const table3 = data([4, 2, 3]);
    check(
      "gather from a rank-3 table",
      g.gather(table3.t, g.constant(new BigInt64Array([3n]), [])),
      ref.gather(table3.r, [3], []),
    );
  }
  {
    const cond = Uint8Array.from([1, 0, 1]);
    const c = batch.feed(cond, [3, 1]);
    const a = data([2, 3, 4]);
    const b = data([4]);
    const condRef = ref.arr([3, 1], cond);
    check(
      "where with broadcasting",
      g.where(c, a.t, b.t),
      ref.mapN([condRef, a.r, b.r], (k, p, q) => (k ? p : q)),
    );
    check(
      "where with a number branch",
      g.where(c, a.t, -2),
      ref.mapN([condRef, a.r], (k, p) => (k ? p : -2)),
    );
    const mask = g.greater(a.t, 0);
    check(
      "where on a computed mask",
      g.where(mask, a.t, 0),
      ref.map(a.r, (v) => Math.max(v, 0)),
    );
  }

  // Normalizations and softmax.
  for (const [shape, groups] of [
    [[2, 64, 3, 3], 32],
    [[2, 32, 2, 3], 32],
    [[3, 8, 2, 2], 1],
    [[3, 8, 2, 2], 8],
    [[2, 12, 5], 3],
    [[2, 6], 2],
  ] as const) {
    const c = shape[1];
    const x = data(
      shape,
      randn(ref.size(shape), seed++, 3).map((v) => v + 1.5),
    );
    const w = data([c]);
    const b = data([c]);
    check(
      `groupNorm ${groups} groups on [${shape}]`,
      g.groupNorm(x.t, w.t, b.t, groups),
      ref.groupNorm(x.r, w.r, b.r, groups),
      "float32",
      { atol: 5e-5, rtol: 5e-5 },
    );
  }
  {
    const x = data([2, 64, 2, 2]);
    const w = data([64]);
    const b = data([64]);
    check(
      "groupNorm defaults (32 groups, eps 1e-5)",
      g.groupNorm(x.t, w.t, b.t),
      ref.groupNorm(x.r, w.r, b.r, 32, 1e-5),
      "float32",
      {
        atol: 5e-5,
        rtol: 5e-5,
      },
    );
    // A near-constant group shows whether eps is applied as 1e-5.
    const flat = data([1, 4, 2], Float32Array.from([1, 1.001, 1, 1.001, 2, 2, 2, 2.002]));
    const w4 = data([4]);
    const b4 = data([4]);
    check(
      "groupNorm eps on near-constant groups",
      g.groupNorm(flat.t, w4.t, b4.t, 2),
      ref.groupNorm(flat.r, w4.r, b4.r, 2),
      "float32",
      {
        atol: 2e-4,
        rtol: 2e-4,
      },
    );
  }
  for (const shape of [
    [2, 3, 16],
    [5, 8],
  ]) {
    const c = shape[shape.length - 1]!;
    const x = data(
      shape,
      randn(ref.size(shape), seed++, 2).map((v) => v - 0.7),
    );
    const w = data([c]);
    const b = data([c]);
    check(`layerNorm on [${shape}]`, g.layerNorm(x.t, w.t, b.t), ref.layerNorm(x.r, w.r, b.r), "float32", {
      atol: 5e-5,
      rtol: 5e-5,
    });
  }
  for (const shape of [
    [3, 7],
    [2, 2, 5],
  ]) {
    const x = data(shape, randn(ref.size(shape), seed++, 3));
    check(`softmax on [${shape}]`, g.softmax(x.t), ref.softmax(x.r), "float32", { atol: 1e-6, rtol: 1e-5 });
    check(
      `softmax on [${shape}] with an explicit axis`,
      g.softmax(x.t, shape.length - 1),
      ref.softmax(x.r),
      "float32",
      {
        atol: 1e-6,
        rtol: 1e-5,
      },
    );
  }
  {
    const x = data([2, 3, 5], randn(30, seed++, 30));
    check("softmax of large logits", g.softmax(x.t), ref.softmax(x.r), "float32", { atol: 1e-6, rtol: 1e-5 });
  }

  // Resampling.
  {
    const x = data([2, 3, 6, 4]);
    check("avgPool2x2", g.avgPool2x2(x.t), ref.avgPool2x2(x.r));
    const y = data([2, 3, 3, 2]);
    check("upsampleNearest2x", g.upsampleNearest2x(y.t), ref.upsampleNearest2x(y.r));
    const z = data([2, 3, 5, 7]);
    for (const [h, w] of [
      [8, 12],
      [3, 4],
      [5, 7],
      [10, 3],
      [2, 14],
      [1, 1],
      [1, 3],
    ] as const) {
      check(`resizeBilinear 5×7 to ${h}×${w}`, g.resizeBilinear(z.t, h, w), ref.resizeBilinear(z.r, h, w));
    }
    const s = data([1, 2, 4, 4]);
    check("resizeBilinear 4×4 to 16×16", g.resizeBilinear(s.t, 16, 16), ref.resizeBilinear(s.r, 16, 16));
    check("resizeBilinear 4×4 to 2×2", g.resizeBilinear(s.t, 2, 2), ref.resizeBilinear(s.r, 2, 2));
  }

  // Training-only ops: dropout with fed noise.
  {
    const x = data([4, 6]);
    const noiseValues = uniform(24, seed++);
    const noise = batch.feed(noiseValues, [4, 6]);
    const p = 0.25;
    const noiseRef = ref.arr([4, 6], noiseValues);
    check(
      "dropout with fed noise",
      g.dropout(x.t, p, noise),
      ref.mapN([x.r, noiseRef], (v, u) => (u >= p ? v / (1 - p) : 0)),
    );
    // Noise exactly at p keeps (u ≥ p), just below it drops.
    const edge = Float32Array.from([0, Math.fround(0.25), 0.2499999, 0.9999999, 0.5, 0.1]);
    const y = data([1, 6]);
    check(
      "dropout with noise at its edges",
      g.dropout(y.t, p, batch.feed(edge, [1, 6])),
      ref.mapN([y.r, ref.arr([1, 6], edge)], (v, u) => (u >= p ? v / (1 - p) : 0)),
    );
    const signs = Float32Array.from([-2, -1e-30, -0, 0, 1e-30, 0.5, 3e38, -3e38]);
    check(
      "positive: 1 where x > 0",
      g.positive(batch.feed(signs, [8])),
      ref.arr(
        [8],
        Array.from(signs, (v) => (v > 0 ? 1 : 0)),
      ),
    );
    assert.equal(g.dropout(x.t, 0, noise), x.t, "dropout with p = 0 is the identity");
    assert.equal(g.dropout(x.t, 0.5, null), x.t, "dropout without noise (inference) is the identity");
  }

  // Constants, casts and comparisons.
  {
    check("scalar constant", g.constant(2.5), ref.arr([], [2.5]));
    check(
      "constant from numbers with a shape",
      g.constant([1, 2, 3, 4, 5, 6], [2, 3]),
      ref.arr([2, 3], [1, 2, 3, 4, 5, 6]),
    );
    check(
      "int64 constant",
      g.constant(BigInt64Array.from([5n, -3n, 1099511627777n])),
      ref.arr([3], [5, -3, 1099511627777]),
      "int64",
    );
    check("bool constant", g.constant(Uint8Array.from([1, 0, 1, 1]), [2, 2]), ref.arr([2, 2], [1, 0, 1, 1]), "bool");
    check("1 / -0 (constants 0 and -0 stay apart)", g.div(1, g.constant(-0)), ref.arr([], [Number.NEGATIVE_INFINITY]));
    check("1 / 0", g.div(1, g.constant(0)), ref.arr([], [Number.POSITIVE_INFINITY]));
    const x = data([2, 3]);
    check(
      "constant in arithmetic",
      g.add(x.t, g.constant([10, 20, 30])),
      ref.mapN([x.r, ref.arr([3], [10, 20, 30])], (p, q) => p + q),
    );

    const values = Float32Array.from([2.7, -2.7, 0.2, 3, 0, -0.5]);
    const v = data([6], values);
    check("cast float32 to int64 truncates", g.cast(v.t, "int64"), ref.arr([6], [2, -2, 0, 3, 0, 0]), "int64");
    check("cast float32 to bool", g.cast(v.t, "bool"), ref.arr([6], [1, 1, 1, 1, 0, 1]), "bool");
    const ints = batch.feed(BigInt64Array.from([4n, -7n, 0n]), [3]);
    check("cast int64 to float32", g.cast(ints, "float32"), ref.arr([3], [4, -7, 0]));
    check("cast bool to float32", g.cast(g.greater(v.t, 0), "float32"), ref.arr([6], [1, 0, 1, 1, 0, 0]));
    assert.equal(g.cast(v.t, "float32"), v.t, "a cast to the same dtype is the identity");

    // Values on a coarse grid so that ties occur.
    const grid = (n: number) => randn(n, seed++).map((t) => Math.round(t * 2) / 2);
    const a = data([2, 3, 4], grid(24));
    const b = data([3, 1], grid(3));
    const cmp = [
      ["less", g.less, (p: number, q: number) => p < q],
      ["greater", g.greater, (p: number, q: number) => p > q],
      ["lessOrEqual", g.lessOrEqual, (p: number, q: number) => p <= q],
      ["greaterOrEqual", g.greaterOrEqual, (p: number, q: number) => p >= q],
      ["equal", g.equal, (p: number, q: number) => p === q],
    ] as const;
    for (const [name, op, f] of cmp) {
      check(
        `${name} with broadcasting`,
        op(a.t, b.t),
        ref.mapN([a.r, b.r], (p, q) => Number(f(p, q))),
        "bool",
      );
      check(
        `${name} with a number`,
        op(a.t, 0.5),
        ref.map(a.r, (p) => Number(f(p, 0.5))),
        "bool",
      );
    }
    check(
      "logicalAnd",
      g.logicalAnd(g.greater(a.t, -0.5), g.less(b.t, 0.5)),
      ref.mapN([a.r, b.r], (p, q) => Number(p > -0.5 && q < 0.5)),
      "bool",
    );
    const ia = batch.feed(BigInt64Array.from([1n, 5n, 3n]), [3]);
    const ib = batch.feed(BigInt64Array.from([2n, 5n, 1n]), [3]);
    check("int64 comparison", g.less(ia, ib), ref.arr([3], [1, 0, 0]), "bool");
    check("int64 equality", g.equal(ia, ib), ref.arr([3], [0, 1, 0]), "bool");
  }

  before(() => batch.run());

  for (const c of checks) {
    test(c.name, () => {
      assert.deepEqual([...c.shape], c.expected.shape, `${c.name}: inferred shape`);
      const out = batch.get(c.key);
      const kind = out instanceof Float32Array ? "float32" : out instanceof BigInt64Array ? "int64" : "bool";
      assert.equal(kind, c.dtype, `${c.name}: output dtype`);
      if (out instanceof Float32Array) {
        assertClose(out, c.expected.data, c.tol, c.name);
      } else {
        assert.deepEqual(
          Array.from(out as ArrayLike<number | bigint>, (v) => Number(v)),
          Array.from(c.expected.data),
          c.name,
        );
      }
    });
  }
});
