// An allocation failure on a GPU, as onnxruntime reports it (a CUDA arena, a WebGPU buffer), becomes
// one error a user can act on; any other engine error, and any on the CPU, is left as it is.
import { GlideError } from "../errors.ts";
import type { ExecutionProvider } from "./session.ts";

/** The GPU ran out of memory for a run or for a session's weights. */
export class DeviceMemoryError extends GlideError {
  override name = "DeviceMemoryError";
}

const GPUS: readonly ExecutionProvider[] = ["webgpu", "cuda", "dml", "coreml"];

// onnxruntime's wording: "Failed to allocate memory for requested buffer of size …" (its arenas),
// "CUDA failure 2: out of memory", "CUBLAS_STATUS_ALLOC_FAILED", Dawn's "Out of memory" and
// "OOM", and a bad_alloc when a host-side staging copy fails.
const ALLOCATION_FAILURE =
  /out of memory|failed to allocate|alloc(ation)?_?failed|\bOOM\b|bad_alloc|not enough memory|cudaErrorMemoryAllocation/i;
// onnxruntime 1.30's WebGPU provider does not report a failed buffer allocation as such: the kernel
// that meets the missing buffer fails its lookup ("Non-zero status code returned while running Conv
// node … absl::container_internal::raw_hash_map<>::at"). Measured on an H200: 256 guided images of
// the released base failed so while nvidia-smi read 131.6 of 143.8 GB in use; 64 images ran.
const WEBGPU_MISSING_BUFFER = /raw_hash_map<>::at/;

/** `error` as a DeviceMemoryError when it is an allocation failure on a GPU provider, else `error`. */
export function deviceMemoryError(error: unknown, provider: ExecutionProvider | undefined): unknown {
  if (provider === undefined || !GPUS.includes(provider)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const allocation = ALLOCATION_FAILURE.test(message) || (provider === "webgpu" && WEBGPU_MISSING_BUFFER.test(message));
  if (!allocation) return error;
  const detail = message.split("\n")[0]!.trim().slice(0, 200);
  return new DeviceMemoryError(`out of GPU memory on ${provider}: ${detail}; try fewer images (-n) or --device cpu`);
}
