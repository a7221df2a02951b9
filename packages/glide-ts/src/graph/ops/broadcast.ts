// Reshape, expand and sum: the ops that the gradient of broadcasting (unbroadcast) is made of,
// apart from the other shape ops so that elementwise.ts and shape-reduce.ts can both use them
// without importing each other.
import { GraphError } from "../dtype.ts";
import { broadcastShapes, formatShape, normalizeAxis, numel, type Shape, sameShape } from "../shape.ts";
import { type Attr, apply, type OpDef, type Tensor } from "../tensor.ts";

interface ReshapeAttrs {
  shape: Shape;
}
const ReshapeOp: OpDef<ReshapeAttrs> = {
  name: "reshape",
  infer: ([x], a) => ({ shape: a.shape, dtype: x!.dtype }),
  emit: (e, [x], a) => e.node("Reshape", [x!, e.int64(a.shape)]),
  grad: (g, y) => [reshape(g, y.inputs[0]!.shape)],
};
/** Reshape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const inferred = shape.filter((d) => d === -1).length;
  const resolved = shape.map((d) => (d === -1 ? numel(x.shape) / known : d));
  if (inferred > 1 || resolved.some((d) => !Number.isInteger(d) || d < 0) || numel(resolved) !== numel(x.shape)) {
    throw new GraphError(`reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  if (resolved.every((d, i) => d === x.shape[i]) && resolved.length === x.rank) return x;
  return apply(ReshapeOp, [x], { shape: resolved });
}

const ExpandOp: OpDef<ReshapeAttrs> = {
  name: "expand",
  infer: ([x], a) => ({ shape: broadcastShapes("expand", x!.shape, a.shape), dtype: x!.dtype }),
  emit: (e, [x], a) => e.node("Expand", [x!, e.int64(a.shape)]),
  grad: (g, y) => [unbroadcast(g, y.inputs[0]!.shape)],
};
/** Broadcasts x to a shape. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (x.rank === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return apply(ExpandOp, [x], { shape: [...shape] });
}

export interface ReduceAttrs {
  axes: readonly number[];
  keepdims: boolean;
}
export function reducedShape(shape: Shape, a: ReduceAttrs): number[] {
  return a.keepdims ? shape.map((d, i) => (a.axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !a.axes.includes(i));
}
export function reduceGrad(g: Tensor, y: Tensor): Tensor {
  const x = y.inputs[0]!;
  const a = y.attrs as ReduceAttrs;
  return expand(reshape(g, reducedShape(x.shape, { ...a, keepdims: true })), x.shape);
}
// noop_with_empty_axes: an empty axis list reduces nothing (ONNX would otherwise reduce every axis).
export function reduceAttrs(a: ReduceAttrs): Record<string, Attr> {
  return { keepdims: { i: a.keepdims ? 1 : 0 }, noop_with_empty_axes: { i: 1 } };
}
export function normalizeAxes(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
  return [...new Set(list.map((a) => normalizeAxis(op, a, x.rank)))].sort((p, q) => p - q);
}

const SumOp: OpDef<ReduceAttrs> = {
  name: "sum",
  infer: ([x], a) => ({ shape: reducedShape(x!.shape, a), dtype: x!.dtype }),
  emit: (e, [x], a) => e.node("ReduceSum", [x!, e.int64(a.axes)], reduceAttrs(a)),
  grad: (g, y) => [reduceGrad(g, y)],
};
/** Sum over axes (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  return apply(SumOp, [x], { axes: normalizeAxes("sum", x, axes), keepdims });
}

/** Sums a broadcast gradient back down to the shape of the input it came from. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? sum(g, axes, true) : g;
  return reshape(summed, shape);
}
