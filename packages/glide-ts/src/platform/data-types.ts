// The plain data the platform interfaces pass (pictures, host tensors, checkpoint contents, stored
// weights): at the ground floor so that the interfaces import nothing above them.

/** An 8-bit picture: rows top to bottom, pixels left to right, `channels` bytes each (grey, RGB or RGBA). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

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

export interface CheckpointContents {
  stateDict: StateDict;
  /** A safetensors file's `__metadata__` (empty for torch files). */
  metadata: Record<string, string>;
}

/**
 * A parameter's float32 values (little-endian, contiguous) in a file that onnxruntime reads itself
 * when it builds a session, instead of a JavaScript array (see runtime/stored-weights.ts).
 */
export interface StoredTensor {
  /** The folder onnxruntime resolves `file` in; every stored tensor of one graph shares it. */
  folder: string;
  /** The file's name in `folder`. */
  file: string;
  /** Where the values start, in bytes. */
  offset: number;
}
