// Ops that move data around (reshape, transpose, concat, slice, pad, expand, gather) and reductions.
import { GraphError } from "../dtype.ts";
import { formatShape, normalizeAxis, numel, type Shape } from "../shape.ts";
import { apply, type OpDef, type Tensor } from "../tensor.ts";
import { normalizeAxes, type ReduceAttrs, reduceAttrs, reducedShape, reduceGrad } from "./broadcast.ts";
import { mul } from "./elementwise.ts";

export { expand, reshape, sum } from "./broadcast.ts";

interface PermAttrs {
  perm: readonly number[];
}
const TransposeOp: OpDef<PermAttrs> = {
  name: "transpose",
  infer: ([x], a) => {
    const sorted = [...a.perm].sort((p, q) => p - q);
    if (a.perm.length !== x!.rank || sorted.some((p, i) => p !== i)) {
      throw new GraphError(`transpose: perm [${a.perm.join(", ")}] does not fit shape ${formatShape(x!.shape)}`);
    }
    return { shape: a.perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  emit: (e, [x], a) => e.node("Transpose", [x!], { perm: { ints: a.perm } }),
  grad: (g, y) => {
    const { perm } = y.attrs as PermAttrs;
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [transpose(g, inverse)];
  },
};
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.every((p, i) => p === i) && perm.length === x.rank) return x;
  return apply(TransposeOp, [x], { perm });
}

interface AxisAttrs {
  axis: number;
}
const ConcatOp: OpDef<AxisAttrs> = {
  name: "concat",
  infer: (xs, a) => {
    const first = xs[0]!;
    const shape = [...first.shape];
    shape[a.axis] = 0;
    for (const x of xs) {
      const ok =
        x.rank === first.rank &&
        x.dtype === first.dtype &&
        x.shape.every((d, i) => i === a.axis || d === first.shape[i]);
      if (!ok) {
        throw new GraphError(
          `concat: shapes ${xs.map((t) => formatShape(t.shape)).join(", ")} differ off axis ${a.axis}`,
        );
      }
      shape[a.axis]! += x.shape[a.axis]!;
    }
    return { shape, dtype: first.dtype };
  },
  emit: (e, xs, a) => e.node("Concat", xs, { axis: { i: a.axis } }),
  grad: (g, y) => {
    const { axis } = y.attrs as AxisAttrs;
    let start = 0;
    return y.inputs.map((x) => {
      const part = slice(g, axis, start, start + x.shape[axis]!);
      start += x.shape[axis]!;
      return part;
    });
  },
};
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new GraphError("concat: no inputs");
  if (xs.length === 1) return xs[0]!;
  return apply(ConcatOp, xs, { axis: normalizeAxis("concat", axis, xs[0]!.rank) });
}

interface SliceAttrs {
  axis: number;
  start: number;
  end: number;
}
const SliceOp: OpDef<SliceAttrs> = {
  name: "slice",
  infer: ([x], a) => {
    const shape = [...x!.shape];
    shape[a.axis] = a.end - a.start;
    return { shape, dtype: x!.dtype };
  },
  emit: (e, [x], a) => e.node("Slice", [x!, e.int64([a.start]), e.int64([a.end]), e.int64([a.axis])]),
  grad: (g, y) => {
    const { axis, start, end } = y.attrs as SliceAttrs;
    const size = y.inputs[0]!.shape[axis]!;
    return [padAxis(g, axis, start, size - end)];
  },
};
/** Elements start..end (exclusive) along one axis. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normalizeAxis("slice", axis, x.rank);
  const size = x.shape[ax]!;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= size)) {
    throw new GraphError(`slice: range ${start}..${end} is outside axis ${ax} of ${formatShape(x.shape)}`);
  }
  if (start === 0 && end === size) return x;
  return apply(SliceOp, [x], { axis: ax, start, end });
}

/** Splits along an axis into pieces of the given sizes. */
export function split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const ax = normalizeAxis("split", axis, x.rank);
  if (sizes.reduce((s, n) => s + n, 0) !== x.shape[ax]) {
    throw new GraphError(`split: sizes [${sizes.join(", ")}] do not add up to axis ${ax} of ${formatShape(x.shape)}`);
  }
  let start = 0;
  return sizes.map((n) => {
    const part = slice(x, ax, start, start + n);
    start += n;
    return part;
  });
}

interface PadAttrs {
  /** Zeros before and after each axis. */
  before: readonly number[];
  after: readonly number[];
}
const PadOp: OpDef<PadAttrs> = {
  name: "pad",
  infer: ([x], a) => ({ shape: x!.shape.map((d, i) => d + a.before[i]! + a.after[i]!), dtype: x!.dtype }),
  emit: (e, [x], a) => e.node("Pad", [x!, e.int64([...a.before, ...a.after])]),
  grad: (g, y) => {
    const { before } = y.attrs as PadAttrs;
    return [before.reduce((t, b, axis) => slice(t, axis, b, b + y.inputs[0]!.shape[axis]!), g)];
  },
};
/** Zero padding: `pads[axis] = [before, after]`; axes left out are not padded. One node for all axes. */
export function pad(x: Tensor, pads: readonly (readonly [number, number] | undefined)[]): Tensor {
  if (pads.length > x.rank) throw new GraphError(`pad: ${pads.length} axes of padding for ${formatShape(x.shape)}`);
  const before = x.shape.map((_, i) => pads[i]?.[0] ?? 0);
  const after = x.shape.map((_, i) => pads[i]?.[1] ?? 0);
  if ([...before, ...after].some((p) => !Number.isInteger(p) || p < 0)) throw new GraphError("pad: negative padding");
  if ([...before, ...after].every((p) => p === 0)) return x;
  return apply(PadOp, [x], { before, after });
}
/** For a tensor made by padding one axis only: that axis, the unpadded tensor and where it starts. */
export function singleAxisPad(t: Tensor): { axis: number; start: number; inner: Tensor } | null {
  if (t.op !== PadOp) return null;
  const { before, after } = t.attrs as PadAttrs;
  const padded = before.map((b, i) => (b !== 0 || after[i] !== 0 ? i : -1)).filter((i) => i >= 0);
  if (padded.length !== 1) return null;
  return { axis: padded[0]!, start: before[padded[0]!]!, inner: t.inputs[0]! };
}
/** Zero padding along one axis. */
export function padAxis(x: Tensor, axis: number, before: number, after: number): Tensor {
  const pads: [number, number][] = [];
  pads[normalizeAxis("pad", axis, x.rank)] = [before, after];
  return pad(x, pads);
}

const MeanOp: OpDef<ReduceAttrs> = {
  name: "mean",
  infer: ([x], a) => ({ shape: reducedShape(x!.shape, a), dtype: x!.dtype }),
  emit: (e, [x], a) => e.node("ReduceMean", [x!, e.int64(a.axes)], reduceAttrs(a)),
  grad: (g, y) => {
    const x = y.inputs[0]!;
    const count = numel(x.shape) / numel(y.shape);
    return [mul(reduceGrad(g, y), 1 / count)];
  },
};
/** Mean over axes (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  return apply(MeanOp, [x], { axes: normalizeAxes("mean", x, axes), keepdims });
}

const GatherOp: OpDef<null> = {
  name: "gather",
  infer: ([table, indices]) => {
    if (indices!.dtype !== "int64") throw new GraphError(`gather: indices must be int64, got ${indices!.dtype}`);
    if (table!.rank < 1) throw new GraphError("gather: table must have rank ≥ 1");
    return { shape: [...indices!.shape, ...table!.shape.slice(1)], dtype: table!.dtype };
  },
  emit: (e, [table, indices]) => e.node("Gather", [table!, indices!], { axis: { i: 0 } }),
  grad: (g, y) => {
    const [table, indices] = y.inputs as [Tensor, Tensor];
    return [scatterAddRows(table.shape, indices, g), null];
  },
};
/** Rows of a table picked by int64 indices (embedding lookup): out[..., :] = table[indices[...], :]. */
export function gather(table: Tensor, indices: Tensor): Tensor {
  return apply(GatherOp, [table, indices], null);
}

interface ScatterAttrs {
  shape: Shape;
}
const ScatterAddOp: OpDef<ScatterAttrs> = {
  name: "scatterAddRows",
  infer: (_, a) => ({ shape: a.shape, dtype: "float32" }),
  emit: (e, [indices, updates], a) => {
    const zeros = e.node("ConstantOfShape", [e.int64(a.shape)]);
    const idx = e.node("Reshape", [indices!, e.int64([-1, 1])]);
    const upd = e.node("Reshape", [updates!, e.int64([-1, ...a.shape.slice(1)])]);
    return e.node("ScatterND", [zeros, idx, upd], { reduction: { s: "add" } });
  },
  grad: (g, y) => [null, gather(g, y.inputs[0]!)],
};
/** Zeros of `shape` with rows of `updates` added at `indices` (the gradient of gather). */
export function scatterAddRows(shape: Shape, indices: Tensor, updates: Tensor): Tensor {
  return apply(ScatterAddOp, [indices, updates], { shape: [...shape] });
}
