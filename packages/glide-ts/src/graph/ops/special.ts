// Ops that exist for training: stop-gradient and dropout.
import { GraphError } from "../dtype.ts";
import { formatShape, sameShape } from "../shape.ts";
import { apply, type OpDef, type Tensor } from "../tensor.ts";
import { greaterOrEqual, mul, where } from "./elementwise.ts";

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
  return where(greaterOrEqual(uniformNoise, p), mul(x, 1 / (1 - p)), 0);
}
