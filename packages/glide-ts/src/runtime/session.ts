// Compiles exported graphs into onnxruntime sessions (the platform's engine: onnxruntime-node,
// onnxruntime-web) and runs them with checked feeds.
import type * as ort from "onnxruntime-common";
import type { DType } from "../graph/dtype.ts";
import { type ExportedModel, type ExportOptions, exportModel } from "../graph/onnx/export.ts";
import { formatShape, numel, type Shape } from "../graph/shape.ts";
import type { Tensor } from "../graph/tensor.ts";
import { platform } from "../platform/platform.ts";
import { deviceMemoryError } from "./device-memory.ts";
import { padConvChannels } from "./webgpu-conv-channels.ts";
import { splitSums } from "./webgpu-sums.ts";

/** Host buffers a graph takes and gives: float32, int64, and bool (as bytes). */
export type HostArray = Float32Array | BigInt64Array | Uint8Array;

export type ExecutionProvider = "cpu" | "wasm" | "webgpu" | "cuda" | "dml" | "coreml";

export interface SessionOptions {
  /** Intra-op threads; onnxruntime's default (all cores) when omitted. */
  threads?: number;
  /** Engine: cpu by default; others are passed through to onnxruntime for users who have them. */
  executionProvider?: ExecutionProvider;
  /**
   * Let idle worker threads spin for a while after a run (onnxruntime's default, true). Spinning
   * threads of one session steal the CPU from the next when several sessions alternate.
   */
  spinning?: boolean;
  /**
   * Keep a run's working memory for the next run in onnxruntime's CPU arena (its default, and ours
   * here; inference sessions of a GlideModel or ClipModel turn it off). Off, each run allocates its
   * planned block and frees it afterwards: a lower peak (the arena grows in steps and reuses its
   * chunks poorly), and nothing held between runs of sessions that take turns, for the page faults
   * of one block per run.
   */
  keepRunMemory?: boolean;
  /** onnxruntime's log level (0 verbose … 4 fatal only; its default 2 prints warnings). */
  logLevel?: 0 | 1 | 2 | 3 | 4;
}

/**
 * Options of a compile beyond the session's: outputs a WebGPU session keeps on its device (the
 * training state that the next step reads again); elsewhere they come back as host arrays.
 */
export interface CompileOptions {
  deviceOutputs?: readonly string[];
}

/**
 * A graph output left on the GPU (an onnxruntime tensor in a GPU buffer): feed it to a graph of
 * the same session family, or read it back by feeding it to one that outputs to the host.
 * `dispose` frees its buffer.
 */
export class DeviceTensor {
  constructor(/** @internal */ readonly value: ort.Tensor) {}

  dispose(): void {
    this.value.dispose();
  }
}

/** A feed: a host array, or a tensor already on the session's device. */
export type Feed = HostArray | DeviceTensor;

/** A feed, a fetch or a session that does not match the graph. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Shape;
}

const ORT_TYPE: Record<DType, "float32" | "int64" | "bool" | "int8" | "uint8" | "int32"> = {
  float32: "float32",
  int64: "int64",
  bool: "bool",
  int8: "int8",
  uint8: "uint8",
  int32: "int32",
};

function describe(v: ValueInfo): string {
  return `'${v.name}' (${v.dtype} ${formatShape(v.shape)})`;
}

/** The providers whose outputs onnxruntime can leave in GPU buffers ("gpu-buffer": WebGPU's). */
function keepsOutputsOnDevice(provider: ExecutionProvider): boolean {
  return provider === "webgpu";
}

function checkDeviceTensor(v: ValueInfo, t: DeviceTensor): void {
  const dims = t.value.dims;
  if (t.value.type !== ORT_TYPE[v.dtype] || dims.length !== v.shape.length || dims.some((d, i) => d !== v.shape[i])) {
    throw new RuntimeError(`feed ${describe(v)}: got a device tensor ${t.value.type} [${dims.join(", ")}]`);
  }
}

function checkArray(v: ValueInfo, data: HostArray, role: string): void {
  const ok =
    (v.dtype === "float32" && data instanceof Float32Array) ||
    (v.dtype === "int64" && data instanceof BigInt64Array) ||
    (v.dtype === "bool" && data instanceof Uint8Array);
  if (!ok) throw new RuntimeError(`${role} ${describe(v)}: got a ${data.constructor.name}`);
  if (data.length !== numel(v.shape)) {
    throw new RuntimeError(`${role} ${describe(v)}: got ${data.length} elements, expected ${numel(v.shape)}`);
  }
}

/** A graph compiled into an onnxruntime session. */
export class CompiledGraph {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
    /** Where it runs: an allocation failure on a GPU is reported as a DeviceMemoryError. */
    readonly executionProvider: ExecutionProvider,
    /** The outputs that stay on the device (none on the CPU). */
    readonly deviceOutputs: ReadonlySet<string> = new Set(),
  ) {}

  /** Exports `outputs` and compiles them. */
  static async compile(
    outputs: Record<string, Tensor>,
    options: SessionOptions & ExportOptions & CompileOptions = {},
  ): Promise<CompiledGraph> {
    const graph = options.executionProvider === "webgpu" ? splitSums(padConvChannels(outputs)) : outputs;
    return CompiledGraph.fromModel(exportModel(graph, options), options);
  }

  static async fromModel(model: ExportedModel, options: SessionOptions & CompileOptions = {}): Promise<CompiledGraph> {
    const engine = platform().inference;
    const provider = options.executionProvider ?? (engine.defaultProvider as ExecutionProvider);
    const onDevice = new Set(keepsOutputsOnDevice(provider) ? (options.deviceOutputs ?? []) : []);
    for (const name of onDevice) {
      if (!model.outputs.some((v) => v.name === name)) throw new RuntimeError(`unknown device output '${name}'`);
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      interOpNumThreads: 1,
      externalData: model.externalData,
    };
    if (options.threads !== undefined) sessionOptions.intraOpNumThreads = options.threads;
    if (options.logLevel !== undefined) sessionOptions.logSeverityLevel = options.logLevel;
    if (options.keepRunMemory === false) sessionOptions.enableCpuMemArena = false;
    const config: Record<string, string> = {};
    if (options.spinning === false) config["intra_op.allow_spinning"] = "0";
    // Stored parameters: onnxruntime reads each one from its file when it needs it (no copy in memory).
    if (model.externalFolder !== null) config.model_external_initializers_file_folder_path = model.externalFolder;
    if (Object.keys(config).length > 0) sessionOptions.extra = { session: config };
    if (onDevice.size > 0) {
      sessionOptions.preferredOutputLocation = Object.fromEntries([...onDevice].map((name) => [name, "gpu-buffer"]));
    }
    let session: ort.InferenceSession;
    try {
      session = await engine.InferenceSession.create(model.bytes, sessionOptions);
    } catch (error) {
      const memory = deviceMemoryError(error, provider);
      if (memory !== error) throw memory;
      throw new RuntimeError(`onnxruntime could not load the graph: ${(error as Error).message}`);
    }
    return new CompiledGraph(session, model.inputs, model.outputs, provider, onDevice);
  }

  /**
   * Runs the graph. Every input must be fed with a buffer of the right type and size. Outputs listed
   * in `into` are written into those preallocated buffers (and returned); the rest are allocated.
   */
  async run(
    feeds: Record<string, HostArray>,
    into: Record<string, HostArray> = {},
  ): Promise<Record<string, HostArray>> {
    if (this.deviceOutputs.size > 0) {
      throw new RuntimeError("this graph keeps outputs on its device: run it with runOnDevice");
    }
    return (await this.runOnDevice(feeds, into)).host;
  }

  /**
   * Runs the graph with feeds that may already be on the device; the outputs compiled as device
   * outputs come back as DeviceTensors (the caller disposes them), the rest as host arrays.
   */
  async runOnDevice(
    feeds: Record<string, Feed>,
    into: Record<string, HostArray> = {},
  ): Promise<{ host: Record<string, HostArray>; device: Record<string, DeviceTensor> }> {
    const { Tensor, fillsPreallocatedOutputs = true } = platform().inference;
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const v of this.inputs) {
      const data = feeds[v.name];
      if (data === undefined) throw new RuntimeError(`missing feed ${describe(v)}`);
      if (data instanceof DeviceTensor) {
        checkDeviceTensor(v, data);
        ortFeeds[v.name] = data.value;
        continue;
      }
      checkArray(v, data, "feed");
      ortFeeds[v.name] = new Tensor(ORT_TYPE[v.dtype], data, v.shape as number[]);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputs.some((v) => v.name === name)) {
        throw new RuntimeError(
          `unknown feed '${name}'; the graph takes ${this.inputs.map((v) => v.name).join(", ") || "no inputs"}`,
        );
      }
    }
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const v of this.outputs) {
      if (this.deviceOutputs.has(v.name)) {
        if (into[v.name]) throw new RuntimeError(`output '${v.name}' stays on the device: no host buffer for it`);
        fetches[v.name] = null;
        continue;
      }
      const buffer = into[v.name];
      if (buffer) checkArray(v, buffer, "output buffer");
      fetches[v.name] =
        buffer && fillsPreallocatedOutputs ? new Tensor(ORT_TYPE[v.dtype], buffer, v.shape as number[]) : null;
    }
    for (const name of Object.keys(into)) {
      if (!this.outputs.some((v) => v.name === name)) throw new RuntimeError(`unknown output '${name}'`);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds, fetches);
    } catch (error) {
      throw deviceMemoryError(error, this.executionProvider);
    }
    const host: Record<string, HostArray> = {};
    const device: Record<string, DeviceTensor> = {};
    for (const v of this.outputs) {
      const result = results[v.name]!;
      if (this.deviceOutputs.has(v.name)) {
        device[v.name] = new DeviceTensor(result);
        continue;
      }
      const data = result.data as HostArray;
      const buffer = into[v.name];
      if (buffer && !fillsPreallocatedOutputs) (buffer as Float32Array).set(data as Float32Array);
      host[v.name] = buffer ?? data;
    }
    return { host, device };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Sessions built on demand and kept per key (a batch size, a resolution): graphs have static shapes. */
export class SessionCache<K> {
  private readonly sessions = new Map<string, Promise<CompiledGraph>>();

  constructor(private readonly build: (key: K) => Promise<CompiledGraph>) {}

  get(key: K): Promise<CompiledGraph> {
    const id = JSON.stringify(key);
    let session = this.sessions.get(id);
    if (!session) {
      session = this.build(key);
      this.sessions.set(id, session);
      session.catch(() => this.sessions.delete(id));
    }
    return session;
  }

  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }
}
