import type { Tensor } from "./tensor.ts";

/** All tensors the outputs depend on, inputs before their users (iterative: graphs are deep). */
export function topologicalOrder(outputs: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<number, "open" | "done">();
  for (const root of outputs) {
    const stack: [Tensor, number][] = [[root, 0]];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const [t, next] = frame;
      if (next === 0) {
        if (state.get(t.id) === "done") {
          stack.pop();
          continue;
        }
        state.set(t.id, "open");
      }
      if (next < t.inputs.length) {
        frame[1] = next + 1;
        const child = t.inputs[next]!;
        if (!state.has(child.id)) stack.push([child, 0]);
      } else {
        state.set(t.id, "done");
        order.push(t);
        stack.pop();
      }
    }
  }
  return order;
}
