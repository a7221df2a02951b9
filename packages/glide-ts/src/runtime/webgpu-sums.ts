// onnxruntime 1.30's WebGPU provider has no kernel for the variadic Sum, so it runs each one on the
// CPU, with a copy of every input from the GPU and of the result back (and a wait for the GPU at
// each). A training step has dozens: the gradient of every tensor used more than once is the Sum of
// its uses' gradients. On WebGPU each Sum becomes a balanced tree of two-input Adds, which it runs.
import * as g from "../graph/index.ts";

/** `outputs` with every n-input sum (addN) written as n − 1 two-input adds, depth ⌈log₂ n⌉. */
export function splitSums(outputs: Record<string, g.Tensor>): Record<string, g.Tensor> {
  return g.rewriteGraph(outputs, (t, inputs) => (t.op.name === "addN" ? addTree(inputs) : null));
}

function addTree(terms: readonly g.Tensor[]): g.Tensor {
  if (terms.length === 1) return terms[0]!;
  const half = Math.ceil(terms.length / 2);
  return g.add(addTree(terms.slice(0, half)), addTree(terms.slice(half)));
}
