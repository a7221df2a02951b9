// Normalizations and softmax: fused ONNX kernels forward, gradients composed from primitives.
import { GraphError } from "../dtype.ts";
import { formatShape, numel } from "../shape.ts";
import { apply, type Emitter, type OpDef, type Tensor } from "../tensor.ts";
import { add, div, mul, neg, sqrt, sub } from "./elementwise.ts";
import { expand, mean, reshape, sum } from "./shape-reduce.ts";

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

/**
 * y = x·scale + bias along axis 1 of [N, C, ...], as onnxruntime's BatchNormalization in inference
 * form (mean 0, variance 1, epsilon 0): one pass, where Mul and Add are two.
 */
function emitChannelAffine(e: Emitter, x: string, scale: string, bias: string, channels: number): string {
  const zeros = e.float32(new Array(channels).fill(0), [channels]);
  const ones = e.float32(new Array(channels).fill(1), [channels]);
  return e.node("BatchNormalization", [x, scale, bias, zeros, ones], { epsilon: { f: 0 } });
}

const ChannelAffineOp: OpDef<null> = {
  name: "channelAffine",
  infer: ([x, scale, bias]) => {
    const c = x!.shape[1];
    if (x!.rank < 2 || scale!.rank !== 1 || scale!.shape[0] !== c || bias!.rank !== 1 || bias!.shape[0] !== c) {
      throw new GraphError(
        `channelAffine: scale ${formatShape(scale!.shape)} and bias ${formatShape(bias!.shape)} must be [${c}] for input ${formatShape(x!.shape)}`,
      );
    }
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [x, scale, bias], _a, self) => emitChannelAffine(e, x!, scale!, bias!, self.shape[1]!),
  grad: (g, y) => {
    const [x, scale] = y.inputs as [Tensor, Tensor, Tensor];
    const others = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const perChannel = (t: Tensor) => reshape(t, [x.shape[1]!, ...x.shape.slice(2).map(() => 1)]);
    return [mul(g, perChannel(scale)), sum(mul(g, x), others), sum(g, others)];
  },
};
/** x·scale + bias per channel (axis 1) of [N, C, ...]. */
export function channelAffine(x: Tensor, scale: Tensor, bias: Tensor): Tensor {
  return apply(ChannelAffineOp, [x, scale, bias], null);
}

interface GroupNormAttrs {
  groups: number;
  eps: number;
}

const GroupStandardizeOp: OpDef<GroupNormAttrs> = {
  name: "groupStandardize",
  infer: ([x]) => ({ shape: x!.shape, dtype: "float32" }),
  emit: (e, [x], a, self) => {
    // onnxruntime has no native GroupNormalization on CPU; InstanceNormalization over [N, G, rest] is one kernel.
    const grouped = e.node("Reshape", [x!, e.int64([self.shape[0]!, a.groups, -1])]);
    const ones = e.float32(new Array(a.groups).fill(1), [a.groups]);
    const zeros = e.float32(new Array(a.groups).fill(0), [a.groups]);
    const normed = e.node("InstanceNormalization", [grouped, ones, zeros], { epsilon: { f: a.eps } });
    return e.node("Reshape", [normed, e.int64(self.shape)]);
  },
  // No gradient rule: groupNorm's own rule carries the gradient to x.
};

/**
 * The affine step of groupNorm. Its inputs are x̂ (x standardized per group) and x itself, and its
 * gradient rule is that of the whole GroupNorm with respect to x (none flows through x̂): the
 * backward then needs only per-(sample, channel) sums and three full passes, where the chain rule
 * through x̂'s own ops takes about a dozen.
 */
const GroupNormOp: OpDef<GroupNormAttrs> = {
  name: "groupNorm",
  infer: ([, x, w, b], a) => {
    const c = x!.shape[1]!;
    if (x!.rank < 2 || c % a.groups !== 0) {
      throw new GraphError(`groupNorm: ${formatShape(x!.shape)} has channels not divisible into ${a.groups} groups`);
    }
    if (w!.rank !== 1 || w!.shape[0] !== c || b!.rank !== 1 || b!.shape[0] !== c) {
      throw new GraphError(`groupNorm: weight and bias must be [${c}] for input ${formatShape(x!.shape)}`);
    }
    return { shape: x!.shape, dtype: "float32" };
  },
  emit: (e, [xhat, , w, b], _a, self) => emitChannelAffine(e, xhat!, w!, b!, self.shape[1]!),
  grad: (g, y) => {
    const [xhat, x, w] = y.inputs as [Tensor, Tensor, Tensor, Tensor];
    const { groups, eps } = y.attrs as GroupNormAttrs;
    const [n, c] = x.shape as [number, number];
    const perGroup = c / groups;
    const count = perGroup * (numel(x.shape) / (n * c)); // elements per (sample, group)
    const spatial = x.shape.map((_, i) => i).slice(2);
    const channelSums = (t: Tensor) => reshape(sum(t, spatial), [n, c]); // [N, C]
    const groupMeans = (t: Tensor) => mul(sum(reshape(t, [n, groups, perGroup]), 2), 1 / count); // [N, C] → [N, G]
    const toChannels = (t: Tensor) => reshape(expand(reshape(t, [n, groups, 1]), [n, groups, perGroup]), [n, c]);
    const sumG = channelSums(g);
    const sumGXhat = channelSums(mul(g, xhat));
    // 1/σ from the forward's own x̂: v = mean(x·x̂) = var/σ with σ = √(var + eps), so σ = (v + √(v² + 4·eps)) / 2.
    const v = groupMeans(channelSums(mul(x, xhat)));
    const rstd = div(2, add(v, sqrt(add(mul(v, v), 4 * eps))));
    // With d = dL/dx̂ = g·w: dx = (d − mean(d) − x̂·mean(d·x̂)) / σ, the means per (sample, group).
    const meanD = groupMeans(mul(sumG, w));
    const meanDXhat = groupMeans(mul(sumGXhat, w));
    const gScale = mul(toChannels(rstd), w);
    const xhatScale = neg(toChannels(mul(rstd, meanDXhat)));
    const shift = neg(toChannels(mul(rstd, meanD)));
    // x̂·scale + shift with a scale per (sample, channel): one channel-affine pass over [1, N·C, rest].
    const flat = [1, n * c, numel(x.shape) / (n * c)];
    const xhatPart = reshape(
      channelAffine(reshape(xhat, flat), reshape(xhatScale, [n * c]), reshape(shift, [n * c])),
      x.shape,
    );
    const dx = add(mul(g, reshape(gScale, [n, c, ...spatial.map(() => 1)])), xhatPart);
    return [null, dx, sum(sumGXhat, 0), sum(sumG, 0)];
  },
};
/** GroupNorm over [N, C, ...] (GLIDE uses 32 groups, eps 1e-5) with per-channel affine. */
export function groupNorm(x: Tensor, weight: Tensor, bias: Tensor, groups = 32, eps = 1e-5): Tensor {
  const c = x.shape[1];
  if (x.rank < 2 || c === undefined || c % groups !== 0) {
    throw new GraphError(`groupNorm: ${formatShape(x.shape)} has channels not divisible into ${groups} groups`);
  }
  const xhat = apply(GroupStandardizeOp, [x], { groups, eps });
  return apply(GroupNormOp, [xhat, x, weight, bias], { groups, eps });
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
