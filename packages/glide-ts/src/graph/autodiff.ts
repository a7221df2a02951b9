// Reverse-mode automatic differentiation over the symbolic graph.
import { sumContributions } from "./accumulate.ts";
import { GraphError } from "./dtype.ts";
import { constant } from "./ops/leaf.ts";
import { expand } from "./ops/shape-reduce.ts";
import { formatShape, sameShape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";
import { topologicalOrder } from "./traverse.ts";

/**
 * Gradients of a scalar `loss` with respect to each tensor in `wrt` (a zero tensor where the loss does
 * not depend on it). Contributions from several uses of a tensor are summed (accumulate.ts) once all
 * of them are known: a tensor's users come after it in topological order, so before it in this walk.
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
  const contributions = new Map<number, Tensor[]>();
  contributions.set(loss.id, [seed ?? constant(1)]);
  const summed = new Map<number, Tensor>();
  const gradientOf = (t: Tensor): Tensor | undefined => {
    const parts = contributions.get(t.id);
    if (!parts) return undefined;
    const sum = summed.get(t.id) ?? sumContributions(parts);
    summed.set(t.id, sum);
    return sum;
  };
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    if (t.inputs.length === 0 || !t.inputs.some((x) => needed.has(x.id))) continue;
    const g = gradientOf(t);
    if (!g) continue;
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
      const parts = contributions.get(x.id);
      if (parts) parts.push(gx);
      else contributions.set(x.id, [gx]);
    });
  }
  return wrt.map((t) => gradientOf(t) ?? expand(constant(0), t.shape));
}
