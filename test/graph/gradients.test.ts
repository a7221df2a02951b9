// Every differentiable op's gradient (a vector-Jacobian product from autodiff, run in float32)
// against central differences of the float64 references, along random directions.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { Tensor } from "../../packages/glide-ts/src/graph/index.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { channelAffine } from "../../packages/glide-ts/src/graph/ops/norm.ts";
import { GradCheck, randn, runGraph, uniform } from "./helpers.ts";
import * as ref from "./reference.ts";

let seed = 500;
const normal = (shape: readonly number[], scale = 1) => ({ shape, data: randn(ref.size(shape), seed++, scale) });
const positive = (shape: readonly number[]) => ({ shape, data: uniform(ref.size(shape), seed++, 0.5, 2) });
/** Normal values moved at least `margin` away from the points where an op has a kink. */
const awayFrom = (shape: readonly number[], kinks: readonly number[], margin = 0.05) => {
  const data = randn(ref.size(shape), seed++);
  return {
    shape,
    data: data.map((v) => {
      for (const k of kinks) if (Math.abs(v - k) < margin) v = k + (v < k ? -margin : margin);
      return v;
    }),
  };
};

const add = (p: number, q: number) => p + q;

describe("gradients match central differences", () => {
  const check = new GradCheck();

  // conv2d: input, weight and bias; strides 1, 2, 3; sizes with output_padding 0, 1 and 2 in dX;
  // square and non-square kernels, and padding wider than the kernel's reach.
  for (const [h, w, kh, kw, stride, padding, withBias] of [
    [6, 6, 3, 3, 1, 1, true],
    [5, 7, 3, 3, 1, 0, true],
    [8, 8, 3, 3, 2, 1, true], // (8 + 2 − 3) mod 2 = 1
    [7, 7, 3, 3, 2, 1, true], // odd size: (7 + 2 − 3) mod 2 = 0
    [7, 6, 3, 3, 2, 0, false], // mixed: 0 along H, 1 along W
    [6, 7, 1, 1, 2, 0, true], // 1×1, stride 2
    [8, 9, 3, 3, 3, 1, true], // stride 3: output_padding 1 and 2
    [5, 5, 1, 1, 1, 0, false],
    [5, 6, 1, 1, 1, 1, true], // padding beyond a 1×1 kernel
    [5, 5, 3, 3, 1, 2, true], // padding 2 with a 3×3 kernel
    [7, 6, 5, 5, 1, 2, false], // 5×5: the wide layout's windows reach four rows down
    [6, 5, 1, 3, 1, 1, true], // non-square kernels
    [6, 5, 3, 1, 1, 0, false],
    [7, 8, 3, 2, 2, 1, true],
  ] as const) {
    const inputs = [normal([2, 3, h, w]), normal([4, 3, kh, kw], 0.5), ...(withBias ? [normal([4])] : [])];
    check.add(
      `conv2d ${h}×${w} k${kh}×${kw} stride ${stride} padding ${padding}${withBias ? " with bias" : ""}`,
      inputs,
      (x, wt, b) => g.conv2d(x!, wt!, b ?? null, { stride, padding }),
      (x, wt, b) => ref.conv2d(x!, wt!, b ?? null, stride, padding),
    );
  }

  // matmul with batch broadcasting, and linear.
  for (const [as, bs] of [
    [
      [3, 4],
      [4, 5],
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
      [4, 2],
    ],
  ] as const) {
    check.add(`matmul [${as}]·[${bs}]`, [normal(as), normal(bs)], (a, b) => g.matmul(a!, b!), ref.matmul);
  }
  check.add(
    "linear",
    [normal([2, 3, 4]), normal([5, 4]), normal([5])],
    (x, w, b) => g.linear(x!, w!, b!),
    (x, w, b) => ref.mapN([ref.matmul(x!, ref.transpose(w!, [1, 0])), b!], add),
  );

  // Elementwise ops, with broadcasting.
  const binaries = [
    ["add", g.add, add],
    ["sub", g.sub, (p: number, q: number) => p - q],
    ["mul", g.mul, (p: number, q: number) => p * q],
    ["div", g.div, (p: number, q: number) => p / q],
  ] as const;
  for (const [name, op, f] of binaries) {
    for (const [as, bs] of [
      [
        [2, 3, 4],
        [3, 1],
      ],
      [[4], [2, 3, 1]],
      [[2, 3], []],
    ] as const) {
      const b = name === "div" ? positive(bs) : normal(bs);
      check.add(
        `${name} [${as}] with [${bs}]`,
        [normal(as), b],
        (p, q) => op(p!, q!),
        (p, q) => ref.mapN([p!, q!], f),
      );
    }
  }
  {
    // maximum: operands kept apart so that no element is near a tie.
    const a = normal([3, 4]);
    const b = { shape: [4], data: Float32Array.from([0.3, -0.2, 1.1, -1.4]) };
    const shiftedA = {
      shape: a.shape,
      data: a.data.map((v, i) => (Math.abs(v - b.data[i % 4]!) < 0.05 ? v + 0.1 : v)),
    };
    check.add(
      "maximum with broadcasting",
      [shiftedA, b],
      (p, q) => g.maximum(p!, q!),
      (p, q) => ref.mapN([p!, q!], Math.max),
    );
  }
  const unaries: [
    string,
    (x: Tensor) => Tensor,
    (v: number) => number,
    { shape: readonly number[]; data: Float32Array },
  ][] = [
    ["neg", g.neg, (v) => -v, normal([3, 4])],
    ["abs", g.abs, Math.abs, awayFrom([3, 4], [0])],
    ["sqrt", g.sqrt, Math.sqrt, positive([3, 4])],
    ["exp", g.exp, Math.exp, normal([3, 4])],
    ["log", g.log, Math.log, positive([3, 4])],
    ["tanh", g.tanh, Math.tanh, normal([3, 4], 1.5)],
    ["sigmoid", g.sigmoid, ref.sigmoid, normal([3, 4], 2)],
    ["silu", g.silu, (v) => v * ref.sigmoid(v), normal([3, 4], 2)],
    ["gelu", g.gelu, ref.gelu, normal([3, 4], 2)],
    ["erf", g.erf, ref.erf, normal([3, 4])],
    ["sin", g.sin, Math.sin, normal([3, 4], 2)],
    ["cos", g.cos, Math.cos, normal([3, 4], 2)],
    ["clamp", (x) => g.clamp(x, -0.5, 0.7), (v) => Math.min(Math.max(v, -0.5), 0.7), awayFrom([3, 4], [-0.5, 0.7])],
    ["clamp, one-sided", (x) => g.clamp(x, 0, Number.POSITIVE_INFINITY), (v) => Math.max(v, 0), awayFrom([3, 4], [0])],
  ];
  for (const [name, op, f, input] of unaries) {
    check.add(
      name,
      [input],
      (x) => op(x!),
      (x) => ref.map(x!, f),
    );
  }
  for (const exponent of [2, 3, 0.5, -1, 1.5, -0.5]) {
    check.add(
      `pow ${exponent}`,
      [positive([2, 5])],
      (x) => g.pow(x!, exponent),
      (x) => ref.map(x!, (v) => v ** exponent),
    );
  }
  check.add(
    "pow 3 of negative values",
    [normal([2, 5])],
    (x) => g.pow(x!, 3),
    (x) => ref.map(x!, (v) => v ** 3),
  );

  // where, dropout (noise as a constant), gather with repeated indices.
  {
    const cond = Uint8Array.from([1, 0, 1]);
    check.add(
      "where with broadcasting",
      [normal([2, 3, 4]), normal([4])],
      (a, b) => g.where(g.constant(cond, [3, 1]), a!, b!),
      (a, b) => ref.mapN([ref.arr([3, 1], cond), a!, b!], (c, p, q) => (c ? p : q)),
    );
    const noise = uniform(20, seed++);
    check.add(
      "dropout",
      [normal([4, 5])],
      (x) => g.dropout(x!, 0.3, g.constant(noise, [4, 5])),
      (x) => ref.mapN([x!, ref.arr([4, 5], noise)], (v, u) => (u >= 0.3 ? v / 0.7 : 0)),
    );
    const indices = [0, 2, 2, 4, 2, 0];
    check.add(
      "gather with repeated indices",
      [normal([5, 3])],
      (t) => g.gather(t!, g.constant(BigInt64Array.from(indices, BigInt), [2, 3])),
      (t) => ref.gather(t!, indices, [2, 3]),
    );
    check.add(
      "gather from a rank-3 table",
      [normal([4, 2, 3])],
      (t) => g.gather(t!, g.constant(BigInt64Array.from([3n, 3n, 1n]))),
      (t) => ref.gather(t!, [3, 3, 1], [3]),
    );
  }

  // Reductions and data movement.
  for (const [axes, keepdims] of [
    [[1], true],
    [[0, 2], false],
    [[-1], false],
    [undefined, false],
  ] as const) {
    const list = axes ?? [0, 1, 2];
    check.add(
      `sum over ${JSON.stringify(axes) ?? "all"}`,
      [normal([2, 3, 4])],
      (x) => g.sum(x!, axes, keepdims),
      (x) => ref.reduce(x!, list, keepdims),
    );
    check.add(
      `mean over ${JSON.stringify(axes) ?? "all"}`,
      [normal([2, 3, 4])],
      (x) => g.mean(x!, axes, keepdims),
      (x) => ref.reduce(x!, list, keepdims, true),
    );
  }
  check.add(
    "transpose then reshape",
    [normal([2, 3, 4])],
    (x) => g.reshape(g.transpose(x!, [2, 0, 1]), [4, -1]),
    (x) => {
      const t = ref.transpose(x!, [2, 0, 1]);
      return { shape: [4, 6], data: t.data };
    },
  );
  check.add(
    "concat, slice and pad",
    [normal([2, 3, 2]), normal([2, 1, 2]), normal([2, 2, 2])],
    (a, b, c) => g.padAxis(g.slice(g.concat([a!, b!, c!], 1), 1, 1, 5), 2, 1, 2),
    (a, b, c) => ref.pad(ref.slice(ref.concat([a!, b!, c!], 1), 1, 1, 5), 2, 1, 2),
  );
  check.add(
    "split into pieces used differently",
    [normal([3, 6])],
    (x) => {
      const [p, q, r] = g.split(x!, 1, [2, 3, 1]);
      return g.concat([g.mul(r!, 2), p!, g.exp(q!)], 1);
    },
    (x) => {
      const p = ref.slice(x!, 1, 0, 2);
      const q = ref.slice(x!, 1, 2, 5);
      const r = ref.slice(x!, 1, 5, 6);
      return ref.concat([ref.map(r, (v) => 2 * v), p, ref.map(q, Math.exp)], 1);
    },
  );
  check.add(
    "slices that overlap, leave gaps, and cross two axes, beside a use of the whole",
    [normal([3, 6, 4])],
    (x) => {
      const parts = [
        g.slice(x!, 1, 0, 2),
        g.slice(x!, 1, 1, 3), // overlaps the first
        g.exp(g.slice(x!, 1, 4, 6)), // leaves 3..4 out
        g.slice(x!, 2, 1, 3),
        g.mul(x!, 3),
      ];
      return g.concat(
        parts.map((p) => g.reshape(p, [-1])),
        0,
      );
    },
    (x) => {
      const parts = [
        ref.slice(x!, 1, 0, 2),
        ref.slice(x!, 1, 1, 3),
        ref.map(ref.slice(x!, 1, 4, 6), Math.exp),
        ref.slice(x!, 2, 1, 3),
        ref.map(x!, (v) => 3 * v),
      ];
      return ref.concat(
        parts.map((p) => ({ shape: [p.data.length], data: p.data })),
        0,
      );
    },
  );
  check.add(
    "expand",
    [normal([3, 1])],
    (x) => g.expand(x!, [2, 3, 4]),
    (x) => ref.mapN([x!, { shape: [2, 3, 4], data: new Float64Array(24) }], (p) => p),
  );

  // Normalizations and softmax: input, weight and bias.
  for (const [shape, groups] of [
    [[2, 64, 2, 2], 32],
    [[2, 8, 3, 3], 4],
    [[2, 6, 5], 1],
  ] as const) {
    const c = shape[1];
    check.add(
      `groupNorm ${groups} groups on [${shape}]`,
      [normal(shape, 2), normal([c]), normal([c])],
      (x, w, b) => g.groupNorm(x!, w!, b!, groups),
      (x, w, b) => ref.groupNorm(x!, w!, b!, groups),
    );
  }
  // The backward takes 1/σ from the forward's own x̂ (σ = (v + √(v² + 4·eps)) / 2 with v = mean(x·x̂)):
  // a mean far from zero, and groups whose variance is below eps.
  {
    const offset = normal([2, 8, 3, 3], 0.5);
    check.add(
      "groupNorm on values far from zero",
      [{ shape: offset.shape, data: offset.data.map((v) => 40 + v) }, normal([8]), normal([8])],
      (x, w, b) => g.groupNorm(x!, w!, b!, 4),
      (x, w, b) => ref.groupNorm(x!, w!, b!, 4),
    );
    const flat = normal([2, 4, 3, 3], 1e-3);
    check.add(
      "groupNorm on groups with variance below eps",
      [flat, normal([4]), normal([4])],
      (x, w, b) => g.groupNorm(x!, w!, b!, 2),
      (x, w, b) => ref.groupNorm(x!, w!, b!, 2),
    );
  }
  check.add(
    "channelAffine",
    [normal([2, 3, 4, 2]), normal([3]), normal([3])],
    (x, s, b) => channelAffine(x!, s!, b!),
    (x, s, b) => ref.mapN([x!, { ...s!, shape: [3, 1, 1] }, { ...b!, shape: [3, 1, 1] }], (v, p, q) => v * p + q),
  );
  check.add(
    "layerNorm",
    [normal([2, 3, 8], 2), normal([8]), normal([8])],
    (x, w, b) => g.layerNorm(x!, w!, b!),
    (x, w, b) => ref.layerNorm(x!, w!, b!),
  );
  check.add(
    "softmax",
    [normal([3, 6], 2)],
    (x) => g.softmax(x!),
    (x) => ref.softmax(x!),
  );
  check.add(
    "softmax rank 3",
    [normal([2, 2, 5], 2)],
    (x) => g.softmax(x!),
    (x) => ref.softmax(x!),
  );

  // Resampling.
  check.add(
    "avgPool2x2",
    [normal([2, 3, 4, 6])],
    (x) => g.avgPool2x2(x!),
    (x) => ref.avgPool2x2(x!),
  );
  check.add(
    "upsampleNearest2x",
    [normal([2, 3, 3, 2])],
    (x) => g.upsampleNearest2x(x!),
    (x) => ref.upsampleNearest2x(x!),
  );
  for (const [h, w] of [
    [8, 12],
    [3, 4],
    [10, 3],
    [1, 1],
  ] as const) {
    check.add(
      `resizeBilinear 5×7 to ${h}×${w}`,
      [normal([2, 2, 5, 7])],
      (x) => g.resizeBilinear(x!, h, w),
      (x) => ref.resizeBilinear(x!, h, w),
    );
  }

  // A tensor used several times: contributions must add up.
  check.add(
    "x used several times",
    [normal([3, 4])],
    (x) => g.add(g.mul(x!, x!), g.mul(g.exp(x!), g.sin(x!))),
    (x) => ref.map(x!, (v) => v * v + Math.exp(v) * Math.sin(v)),
  );
  check.add(
    "x·xᵀ",
    [normal([2, 3, 4])],
    (x) => g.matmul(x!, g.transposeLast(x!)),
    (x) => ref.matmul(x!, ref.transpose(x!, [0, 2, 1])),
  );
  check.add(
    "x through two branches joined by concat",
    [normal([2, 3])],
    (x) => g.concat([g.tanh(x!), g.mul(x!, 3), x!], 0),
    (x) => ref.concat([ref.map(x!, Math.tanh), ref.map(x!, (v) => 3 * v), x!], 0),
  );
  check.add(
    "a small network (conv, groupNorm, silu, pool, linear)",
    [normal([2, 4, 4, 4]), normal([8, 4, 3, 3], 0.3), normal([8]), normal([8]), normal([8]), normal([3, 8], 0.5)],
    (x, w, b, gw, gb, lw) => {
      const h = g.silu(g.groupNorm(g.conv2d(x!, w!, b!, { padding: 1 }), gw!, gb!, 2));
      return g.linear(g.mean(g.avgPool2x2(h), [2, 3]), lw!, null);
    },
    (x, w, b, gw, gb, lw) => {
      const h = ref.map(ref.groupNorm(ref.conv2d(x!, w!, b!, 1, 1), gw!, gb!, 2), (v) => v * ref.sigmoid(v));
      return ref.matmul(ref.reduce(ref.avgPool2x2(h), [2, 3], false, true), ref.transpose(lw!, [1, 0]));
    },
  );

  before(() => check.run());
  for (const name of check.names()) test(name, () => check.verify(name));
});

describe("gradient edge cases", () => {
  test("stopGradient passes values forward and no gradient back", async () => {
    const xs = randn(6, seed++);
    const x = g.input("x", [2, 3]);
    const loss = g.sum(g.mul(g.stopGradient(x), x));
    const [gx] = g.gradients(loss, [x]);
    const [gStopped] = g.gradients(g.sum(g.stopGradient(x)), [x]);
    const out = await runGraph({ loss, gx: gx!, gStopped: gStopped! }, { x: xs });
    // d/dx Σ sg(x)·x = sg(x) = x, not 2x.
    assert.deepEqual(Array.from(out.gx as Float32Array), Array.from(xs));
    assert.deepEqual(Array.from(out.gStopped as Float32Array), [0, 0, 0, 0, 0, 0]);
  });

  test("a scalar loss, an unused input, and an input reached only through a comparison", async () => {
    const xs = randn(4, seed++);
    const x = g.input("x", [4]);
    const unused = g.input("unused", [2, 2]);
    // x reaches the loss through a where (differentiable) and a mask (not differentiable).
    const loss = g.sum(g.where(g.greater(x, 0), g.mul(x, x), g.mul(x, -1)));
    const [gx, gUnused] = g.gradients(loss, [x, unused]);
    assert.deepEqual(gUnused!.shape, [2, 2]);
    const out = await runGraph({ gx: gx!, gUnused: gUnused! }, { x: xs });
    const expected = Array.from(xs, (v) => (v > 0 ? 2 * v : -1));
    assert.deepEqual(Array.from(out.gx as Float32Array), Array.from(Float32Array.from(expected)));
    assert.deepEqual(Array.from(out.gUnused as Float32Array), [0, 0, 0, 0]);
  });

  test("parameters get gradients like inputs", async () => {
    const w = g.param("w", [3], Float32Array.from([1, -2, 3]));
    const x = g.input("x", [2, 3]);
    const [gw] = g.gradients(g.sum(g.mul(g.mul(x, w), w)), [w]);
    const xs = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = await runGraph({ gw: gw! }, { x: xs });
    // d/dw Σ x·w² = 2w·Σ_rows x
    assert.deepEqual(Array.from(out.gw as Float32Array), [2 * 1 * 5, 2 * -2 * 7, 2 * 3 * 9]);
  });

  test("the gradient of the loss with respect to itself is 1", async () => {
    const x = g.input("x", [3]);
    const loss = g.sum(x);
    const [gl] = g.gradients(loss, [loss]);
    const out = await runGraph({ gl: gl! });
    assert.deepEqual(Array.from(out.gl as Float32Array), [1]);
  });
});
