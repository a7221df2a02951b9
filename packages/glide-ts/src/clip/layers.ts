// The noised CLIP's primitive layers, with the reference's parameter names: LayerNorm with gain `g`
// and bias `b` (eps 1e-5), and affine maps `x · wᵀ + b` with `w` [out, in] and an optional bias.
// Fresh parameters (tests, no checkpoint) draw weights from N(0, 0.02²); gains start at 1, biases at 0.
import * as g from "../graph/index.ts";
import type { Scope } from "../nn/params.ts";

export class ClipLayerNorm {
  readonly gain: g.Tensor;
  readonly bias: g.Tensor;

  constructor(scope: Scope, width: number) {
    this.gain = scope.param("g", [width], { kind: "ones" });
    this.bias = scope.param("b", [width], { kind: "zeros" });
  }

  forward(x: g.Tensor): g.Tensor {
    return g.layerNorm(x, this.gain, this.bias, 1e-5);
  }
}

export class ClipAffine {
  readonly weight: g.Tensor;
  readonly bias: g.Tensor | null;

  constructor(scope: Scope, inFeatures: number, outFeatures: number, options: { bias: boolean }) {
    this.weight = scope.param("w", [outFeatures, inFeatures], { kind: "normal", std: 0.02 });
    this.bias = options.bias ? scope.param("b", [outFeatures], { kind: "zeros" }) : null;
  }

  forward(x: g.Tensor): g.Tensor {
    return g.linear(x, this.weight, this.bias);
  }
}
