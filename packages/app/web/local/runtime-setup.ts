// onnxruntime-web's global settings, made once before the first session: the .mjs module from the
// built folder, the .wasm binary from our cache, the thread count of the chosen backend.
import { webEnvironment } from "glide-ts";
import type { BackendChoice, WebGpuAdapterKind } from "./backend-choice.ts";

export interface RuntimeFiles {
  /** URL of ort's .mjs module (it also starts the WebAssembly threads). */
  module: string;
  binary: Uint8Array<ArrayBuffer>;
}

export function configureRuntime(choice: BackendChoice, files: RuntimeFiles): void {
  const wasm = webEnvironment.wasm;
  wasm.wasmPaths = { mjs: files.module };
  wasm.wasmBinary = files.binary;
  wasm.numThreads = choice.threads;
  // This code already runs in a worker: no second one.
  wasm.proxy = false;
}

interface GpuAdapter {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; architecture?: string };
}

/** What WebGPU offers here: nothing, a software adapter (a CPU emulation), or a GPU. */
export async function webGpuAdapterKind(): Promise<WebGpuAdapterKind> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<GpuAdapter | null> } }).gpu;
  if (!gpu) return "none";
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return "none";
    const software =
      adapter.info?.isFallbackAdapter || adapter.isFallbackAdapter || adapter.info?.architecture === "swiftshader";
    return software ? "software" : "gpu";
  } catch {
    return "none";
  }
}
