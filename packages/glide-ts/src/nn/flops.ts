// Counts the floating-point operations of a graph's convolutions and matrix products (a multiply
// and an add each count as one FLOP, so a multiply-accumulate is 2). Elementwise ops, norms and
// softmax are left out: they are a small fraction of a U-Net's cost.
import * as g from "../graph/index.ts";
import { topologicalOrder } from "../graph/traverse.ts";

export interface FlopCount {
  /** conv2d and convTranspose2d. */
  conv: number;
  /** matmul: linear layers, 1×1 convs written as products, attention. */
  matmul: number;
  total: number;
}

export function countFlops(outputs: readonly g.Tensor[]): FlopCount {
  let conv = 0;
  let matmul = 0;
  for (const t of topologicalOrder(outputs)) {
    if (t.op.name === "conv2d") {
      const w = t.inputs[1]!.shape;
      conv += 2 * g.numel(t.shape) * w[1]! * w[2]! * w[3]!;
    } else if (t.op.name === "convTranspose2d") {
      const gy = t.inputs[0]!.shape;
      const w = t.inputs[1]!.shape;
      conv += 2 * g.numel(gy) * w[1]! * w[2]! * w[3]!;
    } else if (t.op.name === "matmul") {
      const a = t.inputs[0]!.shape;
      matmul += 2 * g.numel(t.shape) * a[a.length - 1]!;
    }
  }
  return { conv, matmul, total: conv + matmul };
}
