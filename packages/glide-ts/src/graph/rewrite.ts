// Graph rewriting: a copy of a graph in which some tensors are replaced (e.g. convolutions by their
// quantized form). Tensors are immutable, so everything downstream of a replacement is rebuilt.
import { apply, type OpDef, type Tensor } from "./tensor.ts";
import { topologicalOrder } from "./traverse.ts";

/**
 * Called for each tensor, inputs first, with its inputs as already rewritten: returns the tensor's
 * replacement, or null to keep it (rebuilt on the new inputs if any of them changed).
 */
export type Rewriter = (t: Tensor, inputs: readonly Tensor[]) => Tensor | null;

/** The outputs recomputed with `rewrite` applied to every tensor they depend on. */
export function rewriteGraph(outputs: Record<string, Tensor>, rewrite: Rewriter): Record<string, Tensor> {
  const mapped = new Map<number, Tensor>();
  for (const t of topologicalOrder(Object.values(outputs))) {
    const inputs = t.inputs.map((x) => mapped.get(x.id)!);
    const replaced = rewrite(t, inputs);
    const changed = inputs.some((x, i) => x !== t.inputs[i]);
    mapped.set(t.id, replaced ?? (changed ? apply(t.op as OpDef<unknown>, inputs, t.attrs) : t));
  }
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, mapped.get(t.id)!]));
}
