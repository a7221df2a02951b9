// Elementwise ops with numpy broadcasting, and their gradients.
import { GraphError } from "../dtype.ts";
import { broadcastShapes, formatShape, sameShape } from "../shape.ts";
import { apply, type Emitter, type OpDef, type Tensor } from "../tensor.ts";
import { unbroadcast } from "./broadcast.ts";
import { asTensor } from "./leaf.ts";

export { unbroadcast } from "./broadcast.ts";

function requireFloat(op: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    if (x.dtype !== "float32") throw new GraphError(`${op}: expected float32 input, got ${x.dtype}`);
  }
}

function binaryOp(
  name: string,
  onnx: string,
  grad: (gy: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null],
): OpDef<null> {
  return {
    name,
    infer: ([a, b]) => {
      requireFloat(name, a!, b!);
      return { shape: broadcastShapes(name, a!.shape, b!.shape), dtype: "float32" };
    },
    emit: (e, [a, b]) => e.node(onnx, [a!, b!]),
    grad: (gy, y) => {
      const [a, b] = y.inputs as [Tensor, Tensor];
      const [ga, gb] = grad(gy, a, b, y);
      return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
    },
  };
}

const AddOp = binaryOp("add", "Add", (g) => [g, g]);
const SubOp = binaryOp("sub", "Sub", (g) => [g, neg(g)]);
const MulOp = binaryOp("mul", "Mul", (g, a, b) => [mul(g, b), mul(g, a)]);
const DivOp = binaryOp("div", "Div", (g, _a, b, y) => [div(g, b), neg(div(mul(g, y), b))]);
const MaxOp = binaryOp("maximum", "Max", (g, a, b) => {
  const takeA = greaterOrEqual(a, b);
  return [where(takeA, g, 0), where(takeA, 0, g)];
});

export const add = (a: Tensor | number, b: Tensor | number): Tensor => apply(AddOp, [asTensor(a), asTensor(b)], null);
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => apply(SubOp, [asTensor(a), asTensor(b)], null);
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => apply(MulOp, [asTensor(a), asTensor(b)], null);
export const div = (a: Tensor | number, b: Tensor | number): Tensor => apply(DivOp, [asTensor(a), asTensor(b)], null);
const AddNOp: OpDef<null> = {
  name: "addN",
  infer: (xs) => {
    requireFloat("addN", ...xs);
    for (const x of xs) assertSameShape("addN", xs[0]!, x);
    return { shape: xs[0]!.shape, dtype: "float32" };
  },
  emit: (e, xs) => e.node("Sum", xs),
  grad: (g, y) => y.inputs.map(() => g),
};
/** The sum of tensors of one shape in one node (ONNX Sum): one output pass where a chain of adds makes k − 1. */
export function addN(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) throw new GraphError("addN: no inputs");
  return xs.length === 1 ? xs[0]! : apply(AddNOp, xs, null);
}
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor =>
  apply(MaxOp, [asTensor(a), asTensor(b)], null);

function unaryOp(
  name: string,
  emit: (e: Emitter, x: string) => string,
  grad?: (gy: Tensor, x: Tensor, y: Tensor) => Tensor | null,
) {
  const op: OpDef<null> = {
    name,
    infer: ([x]) => {
      requireFloat(name, x!);
      return { shape: x!.shape, dtype: "float32" };
    },
    emit: (e, [x]) => emit(e, x!),
    grad: grad && ((gy, y) => [grad(gy, y.inputs[0]!, y)]),
  };
  return (x: Tensor): Tensor => apply(op, [x], null);
}

const simple = (onnx: string) => (e: Emitter, x: string) => e.node(onnx, [x]);

export const neg = unaryOp("neg", simple("Neg"), (g) => neg(g));
export const sqrt = unaryOp("sqrt", simple("Sqrt"), (g, _x, y) => div(mul(g, 0.5), y));
export const exp = unaryOp("exp", simple("Exp"), (g, _x, y) => mul(g, y));
export const log = unaryOp("log", simple("Log"), (g, x) => div(g, x));
export const tanh = unaryOp("tanh", simple("Tanh"), (g, _x, y) => mul(g, sub(1, mul(y, y))));
export const sin = unaryOp("sin", simple("Sin"), (g, x) => mul(g, cos(x)));
export const cos = unaryOp("cos", simple("Cos"), (g, x) => neg(mul(g, sin(x))));
// The derivative of sign is zero almost everywhere.
export const sign = unaryOp("sign", simple("Sign"), () => null);
export const abs = unaryOp("abs", simple("Abs"), (g, x) => mul(g, sign(x)));
export const erf = unaryOp("erf", simple("Erf"), (g, x) => mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))));
export const sigmoid = unaryOp("sigmoid", simple("Sigmoid"), (g, _x, y) => mul(g, mul(y, sub(1, y))));
/** SiLU (swish): x·σ(x). */
export const silu = unaryOp(
  "silu",
  (e, x) => e.node("Mul", [x, e.node("Sigmoid", [x])]),
  // σ(x)·(1 + x·(1 − σ(x))) = σ(x)·(1 + x − y): one full pass fewer than the first form.
  (g, x, y) => mul(g, mul(sigmoid(x), add(sub(x, y), 1))),
);
/** GELU, exact erf form: x·Φ(x). */
export const gelu = unaryOp(
  "gelu",
  (e, x) => {
    const phi = e.node("Add", [e.node("Erf", [e.node("Mul", [x, e.float32([Math.SQRT1_2])])]), e.float32([1])]);
    return e.node("Mul", [e.node("Mul", [x, phi]), e.float32([0.5])]);
  },
  (g, x) => {
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return mul(g, add(cdf, mul(x, pdf)));
  },
);

interface PowAttrs {
  exponent: number;
}
const PowOp: OpDef<PowAttrs> = {
  name: "pow",
  infer: ([x]) => {
    requireFloat("pow", x!);
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [x], a) => (a.exponent === 2 ? e.node("Mul", [x!, x!]) : e.node("Pow", [x!, e.float32([a.exponent])])),
  grad: (g, y) => {
    const x = y.inputs[0]!;
    const { exponent } = y.attrs as PowAttrs;
    return [mul(g, mul(pow(x, exponent - 1), exponent))];
  },
};
/** x raised to a constant power. */
export function pow(x: Tensor, exponent: number): Tensor {
  if (exponent === 1) return x;
  return apply(PowOp, [x], { exponent });
}

interface ClampAttrs {
  min: number;
  max: number;
}
const ClampOp: OpDef<ClampAttrs> = {
  name: "clamp",
  infer: ([x], a) => {
    requireFloat("clamp", x!);
    if (!(a.min <= a.max)) throw new GraphError(`clamp: min ${a.min} is greater than max ${a.max}`);
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [x], a) => e.node("Clip", [x!, e.float32([a.min], []), e.float32([a.max], [])]),
  grad: (g, y) => {
    const x = y.inputs[0]!;
    const { min, max } = y.attrs as ClampAttrs;
    const inside = logicalAnd(greaterOrEqual(x, min), lessOrEqual(x, max));
    return [where(inside, g, 0)];
  },
};
export function clamp(x: Tensor, min: number, max: number): Tensor {
  return apply(ClampOp, [x], { min: Math.max(min, -3.4e38), max: Math.min(max, 3.4e38) });
}

// Comparisons and logic produce bool tensors and carry no gradient.
function compareOp(name: string, onnx: string, negate = false): (a: Tensor | number, b: Tensor | number) => Tensor {
  const op: OpDef<null> = {
    name,
    infer: ([a, b]) => {
      if (a!.dtype !== b!.dtype) throw new GraphError(`${name}: dtypes ${a!.dtype} and ${b!.dtype} differ`);
      return { shape: broadcastShapes(name, a!.shape, b!.shape), dtype: "bool" };
    },
    emit: (e, [a, b]) => {
      const r = e.node(onnx, [a!, b!]);
      return negate ? e.node("Not", [r]) : r;
    },
  };
  return (a, b) => apply(op, [asTensor(a), asTensor(b)], null);
}
export const less = compareOp("less", "Less");
export const greater = compareOp("greater", "Greater");
export const lessOrEqual = compareOp("lessOrEqual", "LessOrEqual");
export const greaterOrEqual = compareOp("greaterOrEqual", "GreaterOrEqual");
export const equal = compareOp("equal", "Equal");

const AndOp: OpDef<null> = {
  name: "and",
  infer: ([a, b]) => {
    if (a!.dtype !== "bool" || b!.dtype !== "bool") throw new GraphError("and: expected bool inputs");
    return { shape: broadcastShapes("and", a!.shape, b!.shape), dtype: "bool" };
  },
  emit: (e, [a, b]) => e.node("And", [a!, b!]),
};
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => apply(AndOp, [a, b], null);

const WhereOp: OpDef<null> = {
  name: "where",
  infer: ([c, a, b]) => {
    if (c!.dtype !== "bool") throw new GraphError(`where: condition must be bool, got ${c!.dtype}`);
    if (a!.dtype !== b!.dtype) throw new GraphError(`where: branches have dtypes ${a!.dtype} and ${b!.dtype}`);
    const ab = broadcastShapes("where", a!.shape, b!.shape);
    return { shape: broadcastShapes("where", c!.shape, ab), dtype: a!.dtype };
  },
  emit: (e, [c, a, b]) => e.node("Where", [c!, a!, b!]),
  grad: (g, y) => {
    const [c, a, b] = y.inputs as [Tensor, Tensor, Tensor];
    return [null, unbroadcast(where(c, g, 0), a.shape), unbroadcast(where(c, 0, g), b.shape)];
  },
};
/** cond ? a : b, elementwise with broadcasting. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return apply(WhereOp, [cond, asTensor(a), asTensor(b)], null);
}

interface CastAttrs {
  to: "float32" | "int64" | "bool";
}
const CastOp: OpDef<CastAttrs> = {
  name: "cast",
  infer: ([x], a) => ({ shape: x!.shape, dtype: a.to }),
  emit: (e, [x], a) => e.node("Cast", [x!], { to: { i: { float32: 1, int64: 7, bool: 9 }[a.to] } }),
  grad: (g, y) => [y.inputs[0]!.dtype === "float32" && y.dtype === "float32" ? g : null],
};
export function cast(x: Tensor, to: CastAttrs["to"]): Tensor {
  return x.dtype === to ? x : apply(CastOp, [x], { to });
}

export function assertSameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new GraphError(`${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} differ`);
  }
}
