// Normalizations and softmax: fused ONNX kernels forward, gradients composed from primitives.
import { GraphError } from "../dtype.ts";
import { formatShape } from "../shape.ts";
import { apply, type OpDef, type Tensor } from "../tensor.ts";
import { add, div, mul, sqrt, sub } from "./elementwise.ts";
import { mean, reshape, sum } from "./shape-reduce.ts";

/** Given x normalized over its last axis (x̂, 1/σ), the gradient through the normalization itself. */
function normalizeBackward(dxhat: Tensor, xhat: Tensor, rstd: Tensor): Tensor {
  const last = xhat.rank - 1;
  const centered = sub(dxhat, mean(dxhat, last, true));
  return mul(rstd, sub(centered, mul(xhat, mean(mul(dxhat, xhat), last, true))));
}

/** (x − mean) / sqrt(var + eps) over the last axis, and 1/sqrt(var + eps). */
function standardize(x: Tensor, eps: number): { xhat: Tensor; rstd: Tensor } {
  const last = x.rank - 1;
  const centered = sub(x, mean(x, last, true));
  const rstd = div(1, sqrt(add(mean(mul(centered, centered), last, true), eps)));
  return { xhat: mul(centered, rstd), rstd };
}

interface EpsAttrs {
  eps: number;
}

const LayerNormOp: OpDef<EpsAttrs> = {
  name: "layerNorm",
  infer: ([x, w, b]) => {
    const c = x!.shape[x!.rank - 1];
    if (w!.rank !== 1 || w!.shape[0] !== c || b!.rank !== 1 || b!.shape[0] !== c) {
      throw new GraphError(
        `layerNorm: weight ${formatShape(w!.shape)} and bias ${formatShape(b!.shape)} must be [${c}] for input ${formatShape(x!.shape)}`,
      );
    }
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [x, w, b], a) => e.node("LayerNormalization", [x!, w!, b!], { axis: { i: -1 }, epsilon: { f: a.eps } }),
  grad: (g, y) => {
    const [x, w] = y.inputs as [Tensor, Tensor, Tensor];
    const { xhat, rstd } = standardize(x, (y.attrs as EpsAttrs).eps);
    const lead = x.shape.map((_, i) => i).slice(0, -1);
    return [normalizeBackward(mul(g, w), xhat, rstd), sum(mul(g, xhat), lead), sum(g, lead)];
  },
};
/** LayerNorm over the last axis with affine weight and bias. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return apply(LayerNormOp, [x, weight, bias], { eps });
}

interface GroupNormAttrs {
  groups: number;
  eps: number;
}
const GroupNormOp: OpDef<GroupNormAttrs> = {
  name: "groupNorm",
  infer: ([x, w, b], a) => {
    const c = x!.shape[1]!;
    if (x!.rank < 2 || c % a.groups !== 0) {
      throw new GraphError(`groupNorm: ${formatShape(x!.shape)} has channels not divisible into ${a.groups} groups`);
    }
    if (w!.rank !== 1 || w!.shape[0] !== c || b!.rank !== 1 || b!.shape[0] !== c) {
      throw new GraphError(`groupNorm: weight and bias must be [${c}] for input ${formatShape(x!.shape)}`);
    }
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [x, w, b], a, self) => {
    // onnxruntime has no native GroupNormalization on CPU; InstanceNormalization over [N, G, rest] is one kernel.
    const [n, c] = self.shape as [number, number];
    const grouped = e.node("Reshape", [x!, e.int64([n, a.groups, -1])]);
    const ones = e.float32(new Array(a.groups).fill(1), [a.groups]);
    const zeros = e.float32(new Array(a.groups).fill(0), [a.groups]);
    const normed = e.node("InstanceNormalization", [grouped, ones, zeros], { epsilon: { f: a.eps } });
    const back = e.node("Reshape", [normed, e.int64(self.shape)]);
    const spatial = new Array(self.shape.length - 2).fill(1);
    const scale = e.node("Reshape", [w!, e.int64([c, ...spatial])]);
    const shift = e.node("Reshape", [b!, e.int64([c, ...spatial])]);
    return e.node("Add", [e.node("Mul", [back, scale]), shift]);
  },
  grad: (g, y) => {
    const [x, w] = y.inputs as [Tensor, Tensor, Tensor];
    const { groups, eps } = y.attrs as GroupNormAttrs;
    const [n, c] = x.shape as [number, number];
    const spatial = x.shape.slice(2).map(() => 1);
    const grouped = (t: Tensor) => reshape(t, [n, groups, -1]);
    const { xhat, rstd } = standardize(grouped(x), eps);
    const dxhat = grouped(mul(g, reshape(w, [c, ...spatial])));
    const dx = reshape(normalizeBackward(dxhat, xhat, rstd), x.shape);
    const reduceAxes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const dw = sum(mul(g, reshape(xhat, x.shape)), reduceAxes);
    return [dx, dw, sum(g, reduceAxes)];
  },
};
/** GroupNorm over [N, C, ...] (GLIDE uses 32 groups, eps 1e-5) with per-channel affine. */
export function groupNorm(x: Tensor, weight: Tensor, bias: Tensor, groups = 32, eps = 1e-5): Tensor {
  return apply(GroupNormOp, [x, weight, bias], { groups, eps });
}

interface AxisAttrs {
  axis: number;
}
const SoftmaxOp: OpDef<AxisAttrs> = {
  name: "softmax",
  infer: ([x], a) => {
    if (a.axis !== x!.rank - 1) {
      throw new GraphError(`softmax: axis ${a.axis} of ${formatShape(x!.shape)}: only the last axis is supported`);
    }
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [x]) => e.node("Softmax", [x!], { axis: { i: -1 } }),
  grad: (g, y) => {
    const gy = mul(g, y);
    return [sub(gy, mul(y, sum(gy, y.rank - 1, true)))];
  },
};
/** Softmax over the last axis. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply(SoftmaxOp, [x], { axis: axis < 0 ? axis + x.rank : axis });
}
