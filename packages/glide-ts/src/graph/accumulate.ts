// The gradient of a tensor used several times is the sum of its uses' contributions. Summed in one
// step: gradients of disjoint slices along one axis (zero-padded pieces, e.g. the parts of a split)
// are put side by side with one concat instead of being padded and added, and the rest go into
// one Sum node.
import { addN } from "./ops/elementwise.ts";
import { constant } from "./ops/leaf.ts";
import { concat, expand, singleAxisPad } from "./ops/shape-reduce.ts";
import type { Tensor } from "./tensor.ts";

interface Piece {
  part: Tensor;
  start: number;
  inner: Tensor;
}

/** The sum of gradient contributions of one shape. */
export function sumContributions(parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  const rest: Tensor[] = [];
  const byAxis = new Map<number, Piece[]>();
  for (const part of parts) {
    const pad = singleAxisPad(part);
    if (pad) byAxis.set(pad.axis, [...(byAxis.get(pad.axis) ?? []), { part, ...pad }]);
    else rest.push(part);
  }
  for (const [axis, pieces] of byAxis) {
    if (pieces.length === 1) rest.push(pieces[0]!.part);
    else rest.push(...sideBySide(axis, pieces));
  }
  return addN(rest);
}

/** Pieces placed along `axis` with one concat, zeros in the gaps; a piece overlapping another stays padded. */
function sideBySide(axis: number, pieces: readonly Piece[]): Tensor[] {
  const shape = pieces[0]!.part.shape;
  const zeros = (size: number) =>
    expand(
      constant(0),
      shape.map((d, i) => (i === axis ? size : d)),
    );
  const row: Tensor[] = [];
  const overlapping: Tensor[] = [];
  let end = 0;
  for (const piece of [...pieces].sort((a, b) => a.start - b.start)) {
    if (piece.start < end) {
      overlapping.push(piece.part);
      continue;
    }
    if (piece.start > end) row.push(zeros(piece.start - end));
    row.push(piece.inner);
    end = piece.start + piece.inner.shape[axis]!;
  }
  if (end < shape[axis]!) row.push(zeros(shape[axis]! - end));
  return [concat(row, axis), ...overlapping];
}
