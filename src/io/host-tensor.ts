// Tensors as they live on the host (plain typed arrays), and the state_dict built from them.

/** The dtype a tensor had in the file it came from. */
export type HostDType = "float32" | "float16" | "bfloat16" | "int64" | "int32" | "uint8" | "bool" | "float64";

/**
 * A dense, contiguous (row-major) tensor. Weights are always converted to float32 on load;
 * `sourceDtype` records what the file held. `data.length === numel(shape)`, and `data` owns its
 * whole buffer (it is never a view into a larger one), so `data.buffer` may be handed on as is.
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
  sourceDtype: HostDType;
}

/** Parameter name (reference state_dict key) → tensor, in file order. */
export type StateDict = Map<string, HostTensor>;
