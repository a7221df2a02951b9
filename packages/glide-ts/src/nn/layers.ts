// The primitive layers, each declaring its parameters like its PyTorch counterpart (same names,
// same shapes, same default initialization) and building its forward graph.
import * as g from "../graph/index.ts";
import type { InitSpec, Scope } from "./params.ts";

const ZEROS: InitSpec = { kind: "zeros" };
const ONES: InitSpec = { kind: "ones" };
/** PyTorch's default for Linear/Conv weights and biases: U(±1/√fan_in). */
const fanIn = (n: number): InitSpec => ({ kind: "uniform", bound: 1 / Math.sqrt(n) });

export interface LayerOptions {
  /** Initialize every parameter to zero (the reference's `zero_module`). */
  zeroInit?: boolean;
}

/** nn.Linear: y = x·Wᵀ + b over the last axis; weight [out, in]. */
export class Linear {
  readonly weight: g.Tensor;
  readonly bias: g.Tensor;

  constructor(
    scope: Scope,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions = {},
  ) {
    const init = options.zeroInit ? ZEROS : fanIn(inFeatures);
    this.weight = scope.param("weight", [outFeatures, inFeatures], init);
    this.bias = scope.param("bias", [outFeatures], init);
  }

  forward(x: g.Tensor): g.Tensor {
    return g.linear(x, this.weight, this.bias);
  }
}

export interface Conv2dOptions extends LayerOptions {
  stride?: number;
  padding?: number;
}

/** nn.Conv2d with a square kernel; weight [out, in, k, k]. */
export class Conv2d {
  readonly weight: g.Tensor;
  readonly bias: g.Tensor;
  private readonly stride: number;
  private readonly padding: number;

  constructor(
    scope: Scope,
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number,
    options: Conv2dOptions = {},
  ) {
    const init = options.zeroInit ? ZEROS : fanIn(inChannels * kernel * kernel);
    this.weight = scope.param("weight", [outChannels, inChannels, kernel, kernel], init);
    this.bias = scope.param("bias", [outChannels], init);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
  }

  forward(x: g.Tensor): g.Tensor {
    return g.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** nn.Conv1d with kernel size 1 (the reference's `conv_nd(1, in, out, 1)`): [N, in, T] → [N, out, T]; weight [out, in, 1]. */
export class PointwiseConv1d {
  readonly weight: g.Tensor;
  readonly bias: g.Tensor;

  constructor(
    scope: Scope,
    readonly inChannels: number,
    readonly outChannels: number,
    options: LayerOptions = {},
  ) {
    const init = options.zeroInit ? ZEROS : fanIn(inChannels);
    this.weight = scope.param("weight", [outChannels, inChannels, 1], init);
    this.bias = scope.param("bias", [outChannels], init);
  }

  forward(x: g.Tensor): g.Tensor {
    const w = g.reshape(this.weight, [this.outChannels, this.inChannels]);
    return g.add(g.matmul(w, x), g.reshape(this.bias, [this.outChannels, 1]));
  }
}

/**
 * The reference's GroupNorm32: 32 groups, eps 1e-5, computed in float32, optionally followed by
 * SiLU (`swish=1.0`, the only non-zero swish GLIDE uses).
 */
export class GroupNorm32 {
  static readonly GROUPS = 32;
  readonly weight: g.Tensor;
  readonly bias: g.Tensor;

  constructor(
    scope: Scope,
    readonly channels: number,
    readonly swish = false,
  ) {
    if (channels % GroupNorm32.GROUPS !== 0) {
      throw new g.GraphError(`GroupNorm32 at '${scope.path}': ${channels} channels do not divide into 32 groups`);
    }
    this.weight = scope.param("weight", [channels], ONES);
    this.bias = scope.param("bias", [channels], ZEROS);
  }

  forward(x: g.Tensor): g.Tensor {
    const y = g.groupNorm(x, this.weight, this.bias, GroupNorm32.GROUPS, 1e-5);
    return this.swish ? g.silu(y) : y;
  }
}

/** nn.LayerNorm over the last axis (eps 1e-5). */
export class LayerNorm {
  readonly weight: g.Tensor;
  readonly bias: g.Tensor;

  constructor(
    scope: Scope,
    readonly width: number,
    readonly eps = 1e-5,
  ) {
    this.weight = scope.param("weight", [width], ONES);
    this.bias = scope.param("bias", [width], ZEROS);
  }

  forward(x: g.Tensor): g.Tensor {
    return g.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** nn.Embedding: rows of a [vocab, width] table picked by int64 indices; N(0, 1) init. */
export class Embedding {
  readonly weight: g.Tensor;

  constructor(
    scope: Scope,
    readonly vocab: number,
    readonly width: number,
  ) {
    this.weight = scope.param("weight", [vocab, width], { kind: "normal", std: 1 });
  }

  forward(indices: g.Tensor): g.Tensor {
    return g.gather(this.weight, indices);
  }
}
