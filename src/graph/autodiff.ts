// Reverse-mode automatic differentiation over the symbolic graph.
import { GraphError } from "./dtype.ts";
import { add } from "./ops/elementwise.ts";
import { constant } from "./ops/leaf.ts";
import { expand } from "./ops/shape-reduce.ts";
import { formatShape, sameShape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";
import { topologicalOrder } from "./traverse.ts";

/**
 * Gradients of a scalar `loss` with respect to each tensor in `wrt` (a zero tensor where the loss does
 * not depend on it). Contributions from several uses of a tensor are summed.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!seed && loss.shape.length !== 0) {
    throw new GraphError(`gradients: the loss must be a scalar, got shape ${formatShape(loss.shape)}`);
  }
  const order = topologicalOrder([loss]);
  const wanted = new Set(wrt.map((t) => t.id));
  // Only tensors on a path from a wanted tensor to the loss need gradients.
  const needed = new Set<number>();
  for (const t of order) {
    if (wanted.has(t.id) || t.inputs.some((x) => needed.has(x.id))) needed.add(t.id);
  }
  const grads = new Map<number, Tensor>();
  grads.set(loss.id, seed ?? constant(1));
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = grads.get(t.id);
    if (!g || t.inputs.length === 0 || !t.inputs.some((x) => needed.has(x.id))) continue;
    if (t.op.inferenceOnly) {
      throw new GraphError(
        `gradients: op '${t.op.name}' is inference-only (int8 quantization); differentiate the fp32 graph`,
      );
    }
    if (!t.op.grad) throw new GraphError(`gradients: op '${t.op.name}' has no gradient rule`);
    const inputGrads = t.op.grad(g, t);
    t.inputs.forEach((x, k) => {
      const gx = inputGrads[k];
      if (!gx || !needed.has(x.id) || x.dtype !== "float32") return;
      if (!sameShape(gx.shape, x.shape)) {
        throw new GraphError(
          `gradients: op '${t.op.name}' gave a gradient of shape ${formatShape(gx.shape)} for an input of shape ${formatShape(x.shape)}`,
        );
      }
      const prev = grads.get(x.id);
      grads.set(x.id, prev ? add(prev, gx) : gx);
    });
  }
  return wrt.map((t) => grads.get(t.id) ?? expand(constant(0), t.shape));
}
