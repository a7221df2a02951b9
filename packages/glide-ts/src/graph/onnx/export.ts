// Turns output tensors into an ONNX model: nodes, initializers (inline or external), inputs, outputs.
import { type DType, GraphError } from "../dtype.ts";
import {
  type ConstData,
  constAttrs,
  inputAttrs,
  isConstant,
  isInput,
  isParam,
  paramAttrs,
  type StoredTensor,
} from "../ops/leaf.ts";
import { numel, type Shape } from "../shape.ts";
import type { Attr, Emitter, Tensor } from "../tensor.ts";
import { topologicalOrder } from "../traverse.ts";
import { type InitializerSpec, type NodeSpec, type ValueSpec, writeModel } from "./model-proto.ts";

export interface ExportOptions {
  /** Parameters become initializers holding their current values (inference) or graph inputs (training). */
  params?: "initializers" | "inputs";
  /** Initializers at least this large are passed as external data instead of inline bytes. */
  externalThreshold?: number;
  name?: string;
}

export interface ExternalBlob {
  path: string;
  data: Uint8Array;
}

export interface ExportedModel {
  bytes: Uint8Array;
  /** Weights kept out of the protobuf (no 2 GB limit, no copy); pass to the session as external data. */
  externalData: ExternalBlob[];
  /**
   * The folder of the files that stored parameters are read from (onnxruntime resolves their
   * locations there), or null when the graph has none.
   */
  externalFolder: string | null;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

function bytesOf(data: ConstData | Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

class GraphEmitter implements Emitter {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  readonly externalData: ExternalBlob[] = [];
  externalFolder: string | null = null;
  private counter = 0;
  private constants = new Map<string, string>();

  constructor(private readonly threshold: number) {}

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    const out = this.fresh("t");
    this.nodes.push({ opType, inputs, outputs: [out], name: `${opType}_${this.counter}`, attrs });
    return out;
  }

  nodeNamed(opType: string, inputs: readonly string[], output: string): void {
    // Named after its output (unique in a graph): a counter-based name could repeat one of node()'s.
    this.nodes.push({ opType, inputs, outputs: [output], name: `${opType}_${output}`, attrs: {} });
  }

  initializer(name: string, dtype: DType, shape: Shape, data: ConstData | Float32Array, inline = false): void {
    const raw = bytesOf(data);
    if (!inline && raw.byteLength >= this.threshold) {
      const location = `${this.externalData.length}.bin`;
      this.externalData.push({ path: location, data: raw });
      this.initializers.push({ name, dtype, shape, location, byteLength: raw.byteLength });
    } else {
      this.initializers.push({ name, dtype, shape, raw: raw.slice(), byteLength: raw.byteLength });
    }
  }

  /** A float32 initializer whose bytes onnxruntime reads from a file itself. */
  storedInitializer(name: string, shape: Shape, stored: StoredTensor): void {
    if (this.externalFolder !== null && this.externalFolder !== stored.folder) {
      throw new GraphError(
        `export: parameter '${name}' is stored in ${stored.folder}, others in ${this.externalFolder}: one graph reads one folder`,
      );
    }
    this.externalFolder = stored.folder;
    const byteLength = 4 * numel(shape);
    this.initializers.push({ name, dtype: "float32", shape, location: stored.file, offset: stored.offset, byteLength });
  }

  /**
   * onnxruntime takes external data either from memory or from files, not both: beside stored
   * parameters, the other large initializers (constants) go into the protobuf.
   */
  inlineMemoryData(): void {
    const blobs = new Map(this.externalData.map((b) => [b.path, b.data]));
    for (const init of this.initializers) {
      const data = init.location === undefined || init.offset !== undefined ? undefined : blobs.get(init.location);
      if (data) {
        init.raw = data.slice();
        init.location = undefined;
      }
    }
    this.externalData.length = 0;
  }

  /**
   * Small constants are shared by value. `inline` keeps one in the protobuf whatever its size: the
   * shapes, axes and bounds that ops emit must be readable by onnxruntime's shape inference.
   */
  constant(dtype: DType, shape: Shape, data: ConstData, inline = false): string {
    const small = data.length <= 64;
    // Object.is keeps -0 apart from 0. Only small constants get a key: large ones (int8 weights) are
    // never shared, and stringifying them would take longer than the export.
    const key = small
      ? `${dtype}|${shape.join(",")}|${Array.from(data as ArrayLike<number | bigint>, (v) => (Object.is(v, -0) ? "-0" : String(v))).join(",")}`
      : "";
    const known = small ? this.constants.get(key) : undefined;
    if (known) return known;
    const name = this.fresh("c");
    this.initializer(name, dtype, shape, data, inline);
    if (small) this.constants.set(key, name);
    return name;
  }

  int64(values: readonly number[], shape: Shape = [values.length]): string {
    return this.constant(
      "int64",
      shape,
      BigInt64Array.from(values, (v) => BigInt(v)),
      true,
    );
  }

  float32(values: readonly number[], shape: Shape = [values.length]): string {
    return this.constant("float32", shape, Float32Array.from(values), true);
  }
}

/** Serializes the graph that computes `outputs` (keyed by output name). */
export function exportModel(outputs: Record<string, Tensor>, options: ExportOptions = {}): ExportedModel {
  const mode = options.params ?? "initializers";
  const e = new GraphEmitter(options.externalThreshold ?? 4096);
  const names = new Map<number, string>();
  const inputs: ValueSpec[] = [];
  const taken = new Set<string>();
  const claim = (name: string, what: string) => {
    if (taken.has(name)) throw new GraphError(`export: two graph values are named '${name}' (${what})`);
    taken.add(name);
  };
  const outputEntries = Object.entries(outputs);
  for (const [name] of outputEntries) claim(name, "output");

  for (const t of topologicalOrder(outputEntries.map(([, t]) => t))) {
    if (isInput(t)) {
      const a = inputAttrs(t);
      claim(a.name, "input");
      inputs.push({ name: a.name, dtype: a.dtype, shape: a.shape });
      names.set(t.id, a.name);
    } else if (isParam(t)) {
      const a = paramAttrs(t);
      claim(a.name, "parameter");
      if (mode === "inputs") {
        inputs.push({ name: a.name, dtype: "float32", shape: a.shape });
      } else if (a.value) {
        e.initializer(a.name, "float32", a.shape, a.value);
      } else if (a.stored) {
        e.storedInitializer(a.name, a.shape, a.stored);
      } else {
        throw new GraphError(`export: parameter '${a.name}' has no value`);
      }
      names.set(t.id, a.name);
    } else if (isConstant(t)) {
      const a = constAttrs(t);
      names.set(t.id, e.constant(a.dtype, a.shape, a.data));
    } else {
      const inputNames = t.inputs.map((x) => names.get(x.id)!);
      names.set(t.id, t.op.emit(e, inputNames, t.attrs as never, t));
    }
  }
  const outputSpecs = outputEntries.map(([name, t]) => {
    e.nodeNamed("Identity", [names.get(t.id)!], name);
    return { name, dtype: t.dtype, shape: t.shape };
  });
  if (e.externalFolder !== null) e.inlineMemoryData();
  const bytes = writeModel({
    name: options.name ?? "glide-ts",
    nodes: e.nodes,
    initializers: e.initializers,
    inputs,
    outputs: outputSpecs,
  });
  return { bytes, externalData: e.externalData, externalFolder: e.externalFolder, inputs, outputs: outputSpecs };
}
