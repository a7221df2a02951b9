// Field numbers of onnx.proto's messages, and writers for the pieces the exporter emits.
import { DTYPES, type DType } from "../dtype.ts";
import type { Shape } from "../shape.ts";
import type { Attr } from "../tensor.ts";
import { ProtoWriter } from "./protobuf.ts";

export const IR_VERSION = 8;
export const OPSET = 18;

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attrs: Record<string, Attr>;
}

/** A tensor stored either inline (raw little-endian bytes) or as external data under `location`. */
export interface InitializerSpec {
  name: string;
  dtype: DType;
  shape: Shape;
  raw?: Uint8Array;
  location?: string;
  /** Where the tensor's bytes start in `location` (default 0). */
  offset?: number;
  byteLength: number;
}

export interface ValueSpec {
  name: string;
  dtype: DType;
  shape: Shape;
}

function writeAttribute(w: ProtoWriter, name: string, attr: Attr): void {
  w.string(1, name);
  if ("i" in attr) w.int(3, attr.i).int(20, 2);
  else if ("f" in attr) w.float(2, attr.f).int(20, 1);
  else if ("s" in attr) w.string(4, attr.s).int(20, 3);
  else if ("ints" in attr) {
    for (const v of attr.ints) w.int(8, v);
    w.int(20, 7);
  } else {
    for (const v of attr.floats) w.float(7, v);
    w.int(20, 6);
  }
}

function writeNode(w: ProtoWriter, node: NodeSpec): void {
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, attr] of Object.entries(node.attrs)) w.message(5, (a) => writeAttribute(a, name, attr));
}

function writeTensor(w: ProtoWriter, t: InitializerSpec): void {
  for (const d of t.shape) w.int(1, d);
  w.int(2, DTYPES[t.dtype].onnx);
  w.string(8, t.name);
  if (t.location !== undefined) {
    const entry = (key: string, value: string) => w.message(13, (e) => e.string(1, key).string(2, value));
    entry("location", t.location);
    entry("offset", String(t.offset ?? 0));
    entry("length", String(t.byteLength));
    w.int(14, 1);
  } else {
    w.bytes(9, t.raw ?? new Uint8Array(0));
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueSpec): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, DTYPES[v.dtype].onnx);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly InitializerSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
}

/** Serializes a whole ModelProto. */
export function writeModel(graph: GraphSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, "glide-ts");
  w.message(7, (g) => {
    for (const n of graph.nodes) g.message(1, (m) => writeNode(m, n));
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of graph.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of graph.outputs) g.message(12, (m) => writeValueInfo(m, v));
  });
  w.message(8, (o) => o.string(1, "").int(2, OPSET));
  return w.finish();
}
