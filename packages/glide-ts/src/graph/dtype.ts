// Element types a graph tensor may have, with their ONNX TensorProto.DataType codes.
export const DTYPES = {
  float32: { onnx: 1, bytes: 4 },
  int64: { onnx: 7, bytes: 8 },
  bool: { onnx: 9, bytes: 1 },
  // Quantized values (int8 inference): weights, activations, biases.
  int8: { onnx: 3, bytes: 1 },
  uint8: { onnx: 2, bytes: 1 },
  int32: { onnx: 6, bytes: 4 },
} as const;

export type DType = keyof typeof DTYPES;

export function checkDType(dtype: string, where: string): DType {
  if (!(dtype in DTYPES)) {
    throw new GraphError(`${where}: unknown dtype '${dtype}' (expected one of ${Object.keys(DTYPES).join(", ")})`);
  }
  return dtype as DType;
}

/** A mistake in how a graph was built: bad shapes, bad dtypes, bad options. */
export class GraphError extends Error {
  override name = "GraphError";
}
