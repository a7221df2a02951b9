// Ops that exist for training: stop-gradient, dropout and the 0/1 mask of positive values.
import { GraphError } from "../dtype.ts";
import { formatShape, sameShape } from "../shape.ts";
import { apply, type OpDef, type Tensor } from "../tensor.ts";
import { mul, sub } from "./elementwise.ts";

const StopGradientOp: OpDef<null> = {
  name: "stopGradient",
  infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  emit: (e, [x]) => e.node("Identity", [x!]),
  grad: () => [null],
};
/** Passes x through forward; no gradient flows back through it. */
export function stopGradient(x: Tensor): Tensor {
  return apply(StopGradientOp, [x], null);
}

const PositiveOp: OpDef<null> = {
  name: "positive",
  infer: ([x]) => ({ shape: x!.shape, dtype: "float32" }),
  // ceil(x) is ≥ 1 for any x > 0 and ≤ 0 otherwise; the clip makes it 1 or 0.
  emit: (e, [x]) => e.node("Clip", [e.node("Ceil", [x!]), e.float32([0]), e.float32([1])]),
  grad: () => [null],
};
/**
 * 1 where x > 0, else 0, as float32 (no gradient): a mask that selects by arithmetic instead of
 * `where` on a comparison. WebGPU has no kernel to transpose a boolean tensor, and its NHWC layout
 * would send each such mask to the CPU and back, with a wait for the GPU, in every training step.
 */
export function positive(x: Tensor): Tensor {
  return apply(PositiveOp, [x], null);
}

/**
 * Inverted dropout. The uniform [0, 1) noise comes in as a tensor (fed from the project's seeded
 * generator), so a training run is reproducible; pass `null` noise or p = 0 at inference.
 */
export function dropout(x: Tensor, p: number, uniformNoise: Tensor | null): Tensor {
  if (!(p >= 0 && p < 1)) throw new GraphError(`dropout: probability ${p} is outside [0, 1)`);
  if (p === 0 || uniformNoise === null) return x;
  if (!sameShape(uniformNoise.shape, x.shape)) {
    throw new GraphError(
      `dropout: noise ${formatShape(uniformNoise.shape)} must have the input's shape ${formatShape(x.shape)}`,
    );
  }
  // Kept where noise ≥ p, i.e. unless p − noise > 0.
  const keep = sub(1, positive(sub(p, uniformNoise)));
  return mul(x, mul(keep, 1 / (1 - p)));
}
