// Element counts and printing of tensor shapes, shared by the graph layer and host tensors.

/** Number of elements of a tensor of this shape (1 for a scalar, shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
