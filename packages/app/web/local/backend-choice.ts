// Which onnxruntime-web backend the page runs on: WebGPU where the browser offers a GPU adapter, else
// WebAssembly — with threads when the page is cross-origin isolated (SharedArrayBuffer exists only
// then). The URL can override it: ?backend=wasm|webgpu|auto and ?threads=N (and skip the upsampler:
// ?upsample=0).

export type BackendKind = "wasm" | "webgpu";
export type WebGpuAdapterKind = "none" | "software" | "gpu";

export interface BackendRequest {
  backend: BackendKind | "auto";
  /** WebAssembly threads asked for; absent: chosen from the machine. */
  threads?: number;
}

export interface BackendEnvironment {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** What navigator.gpu gave: no adapter, a software one (SwiftShader: slower than WebAssembly), a GPU. */
  webgpu: WebGpuAdapterKind;
}

export interface BackendChoice {
  kind: BackendKind;
  /** onnxruntime-web's WebAssembly threads (also used by WebGPU for the operators it leaves on the CPU). */
  threads: number;
  /** Why the choice differs from what was asked, for the page to show. */
  notes: string[];
}

/** More threads than this gain little on these small networks and starve the page. */
export const MAX_AUTO_THREADS = 4;

export interface PageQuery {
  request: BackendRequest;
  /** Whether runs upsample when the UI does not say (?upsample=0: 32×32 pictures, several times faster). */
  upsample: boolean;
  /** Values that were not understood, for the page to show. */
  notes: string[];
}

/** What a page URL's query asks for; unknown values are reported, not guessed. */
export function parsePageQuery(search: string): PageQuery {
  const params = new URLSearchParams(search);
  const notes: string[] = [];
  const request: BackendRequest = { backend: "auto" };
  const backend = params.get("backend");
  if (backend === "wasm" || backend === "webgpu" || backend === "auto") request.backend = backend;
  else if (backend !== null) notes.push(`unknown backend '${backend}' (expected wasm, webgpu or auto): choosing one`);
  const threads = params.get("threads");
  if (threads !== null) {
    const n = Number(threads);
    if (/^\s*\d+\s*$/.test(threads) && n >= 1 && n <= 64) request.threads = n;
    else notes.push(`threads must be an integer from 1 to 64, got '${threads}': choosing a count`);
  }
  const upsample = params.get("upsample");
  const off = upsample !== null && ["0", "off", "false", "no"].includes(upsample.toLowerCase());
  return { request, upsample: !off, notes };
}

export function chooseBackend(request: BackendRequest, env: BackendEnvironment): BackendChoice {
  const notes: string[] = [];
  let kind: BackendKind = request.backend === "auto" ? (env.webgpu === "gpu" ? "webgpu" : "wasm") : request.backend;
  if (kind === "webgpu" && env.webgpu === "none") {
    notes.push("this browser offers no WebGPU adapter: running on WebAssembly");
    kind = "wasm";
  } else if (kind === "webgpu" && env.webgpu === "software") {
    notes.push("WebGPU has only a software adapter here: slower than WebAssembly");
  }
  let threads = request.threads ?? (env.crossOriginIsolated ? Math.min(MAX_AUTO_THREADS, env.hardwareConcurrency) : 1);
  if (request.threads === undefined && !env.crossOriginIsolated && env.hardwareConcurrency > 1) {
    notes.push("one thread: the page lacks the COOP/COEP headers of cross-origin isolation");
  } else if (threads > 1 && !env.crossOriginIsolated) {
    notes.push(
      "WebAssembly threads need a cross-origin isolated page (COOP/COEP headers, e.g. `glide serve --web`): running on 1",
    );
    threads = 1;
  }
  return { kind, threads: Math.max(1, threads), notes };
}

/** "WebAssembly, 4 threads", "WebGPU". */
export function describeBackend(choice: Pick<BackendChoice, "kind" | "threads">): string {
  if (choice.kind === "webgpu") return "WebGPU";
  return `WebAssembly, ${choice.threads} thread${choice.threads === 1 ? "" : "s"}`;
}
