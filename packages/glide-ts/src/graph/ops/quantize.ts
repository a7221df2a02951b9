// Inference-only ops of int8 inference: ONNX's QuantizeLinear / DequantizeLinear (which onnxruntime
// fuses with the op between them into integer kernels), and the value range used to calibrate them.
// None has a gradient rule: autodiff refuses them by name.
import { GraphError } from "../dtype.ts";
import { formatShape, normalizeAxis } from "../shape.ts";
import { type Attr, apply, type OpDef, type Tensor } from "../tensor.ts";

/** The integer types a quantized tensor may have. */
export type QuantizedType = "int8" | "uint8";

interface AxisAttrs {
  /** The per-channel axis when the scale is a vector; null for one scale for the whole tensor. */
  axis: number | null;
}

/** Checks that a scale and zero point fit `x`: scalars, or vectors along `axis`. */
function checkScale(op: string, x: Tensor, scale: Tensor, zeroPoint: Tensor, axis: number | null): void {
  if (scale.dtype !== "float32") throw new GraphError(`${op}: the scale must be float32, got ${scale.dtype}`);
  if (scale.rank !== zeroPoint.rank || scale.shape[0] !== zeroPoint.shape[0]) {
    throw new GraphError(
      `${op}: scale ${formatShape(scale.shape)} and zero point ${formatShape(zeroPoint.shape)} differ in shape`,
    );
  }
  if (axis === null) {
    if (scale.rank !== 0)
      throw new GraphError(`${op}: a per-tensor scale must be a scalar, got ${formatShape(scale.shape)}`);
    return;
  }
  const a = normalizeAxis(op, axis, x.rank);
  if (scale.rank !== 1 || scale.shape[0] !== x.shape[a]) {
    throw new GraphError(
      `${op}: a per-channel scale along axis ${axis} of ${formatShape(x.shape)} must be [${x.shape[a]}], got ${formatShape(scale.shape)}`,
    );
  }
}

const axisAttr = (axis: number | null): Record<string, Attr> => (axis === null ? {} : { axis: { i: axis } });

const QuantizeLinearOp: OpDef<AxisAttrs> = {
  name: "quantizeLinear",
  inferenceOnly: true,
  infer: ([x, scale, zeroPoint], a) => {
    if (x!.dtype !== "float32") throw new GraphError(`quantizeLinear: expected a float32 input, got ${x!.dtype}`);
    if (zeroPoint!.dtype !== "int8" && zeroPoint!.dtype !== "uint8") {
      throw new GraphError(`quantizeLinear: the zero point must be int8 or uint8, got ${zeroPoint!.dtype}`);
    }
    checkScale("quantizeLinear", x!, scale!, zeroPoint!, a.axis);
    return { shape: x!.shape, dtype: zeroPoint!.dtype };
  },
  emit: (e, [x, scale, zeroPoint], a) => e.node("QuantizeLinear", [x!, scale!, zeroPoint!], axisAttr(a.axis)),
};
/** round(x / scale) + zeroPoint, saturated to the zero point's type (int8 or uint8). */
export function quantizeLinear(x: Tensor, scale: Tensor, zeroPoint: Tensor, axis: number | null = null): Tensor {
  return apply(QuantizeLinearOp, [x, scale, zeroPoint], { axis });
}

const DequantizeLinearOp: OpDef<AxisAttrs> = {
  name: "dequantizeLinear",
  inferenceOnly: true,
  infer: ([q, scale, zeroPoint], a) => {
    if (q!.dtype !== zeroPoint!.dtype || !["int8", "uint8", "int32"].includes(q!.dtype)) {
      throw new GraphError(
        `dequantizeLinear: input (${q!.dtype}) and zero point (${zeroPoint!.dtype}) must be the same integer type`,
      );
    }
    checkScale("dequantizeLinear", q!, scale!, zeroPoint!, a.axis);
    return { shape: q!.shape, dtype: "float32" };
  },
  emit: (e, [q, scale, zeroPoint], a) => e.node("DequantizeLinear", [q!, scale!, zeroPoint!], axisAttr(a.axis)),
};
/** (q − zeroPoint) · scale as float32. */
export function dequantizeLinear(q: Tensor, scale: Tensor, zeroPoint: Tensor, axis: number | null = null): Tensor {
  return apply(DequantizeLinearOp, [q, scale, zeroPoint], { axis });
}

const ValueRangeOp: OpDef<null> = {
  name: "valueRange",
  inferenceOnly: true,
  infer: ([x]) => {
    if (x!.dtype !== "float32") throw new GraphError(`valueRange: expected a float32 input, got ${x!.dtype}`);
    return { shape: [2], dtype: "float32" };
  },
  emit: (e, [x]) => {
    const one = e.int64([1]);
    const low = e.node("Reshape", [e.node("ReduceMin", [x!], { keepdims: { i: 0 } }), one]);
    const high = e.node("Reshape", [e.node("ReduceMax", [x!], { keepdims: { i: 0 } }), one]);
    return e.node("Concat", [low, high], { axis: { i: 0 } });
  },
};
/** [min, max] over every element of x (what calibration records). */
export function valueRange(x: Tensor): Tensor {
  return apply(ValueRangeOp, [x], null);
}
