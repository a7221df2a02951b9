// The safetensors format on bytes (any platform): 8-byte little-endian header length, a JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}), then the raw
// little-endian tensor bytes. Files on disk are read and written by safetensors.ts (Node).

import { numel } from "../util/shape.ts";
import { CheckpointError } from "./errors.ts";
import { bfloat16ToFloat32, halfToFloat32 } from "./half.ts";
import type { HostDType, HostTensor, StateDict } from "./host-tensor.ts";

export type SafetensorsDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** F16 and BF16 hold raw bit patterns (Uint16Array); BOOL holds 0/1 bytes (Uint8Array). */
export type TypedData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** A tensor in its file dtype. `data` owns its buffer and has `numel(shape)` elements. */
export interface TypedTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TypedData;
}

type TypedCtor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => TypedData;

export const DTYPES: Record<SafetensorsDType, { size: number; ctor: TypedCtor; host?: HostDType }> = {
  F64: { size: 8, ctor: Float64Array, host: "float64" },
  F32: { size: 4, ctor: Float32Array, host: "float32" },
  F16: { size: 2, ctor: Uint16Array, host: "float16" },
  BF16: { size: 2, ctor: Uint16Array, host: "bfloat16" },
  I64: { size: 8, ctor: BigInt64Array, host: "int64" },
  I32: { size: 4, ctor: Int32Array, host: "int32" },
  I16: { size: 2, ctor: Int16Array },
  I8: { size: 1, ctor: Int8Array },
  U64: { size: 8, ctor: BigUint64Array },
  U32: { size: 4, ctor: Uint32Array },
  U16: { size: 2, ctor: Uint16Array },
  U8: { size: 1, ctor: Uint8Array, host: "uint8" },
  BOOL: { size: 1, ctor: Uint8Array, host: "bool" },
};

/** The format's own limit; also bounds what a forged length can make us allocate. */
const MAX_HEADER_BYTES = 100_000_000;
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A parsed safetensors file: every tensor in its own dtype, with float32 / int32 accessors. */
export class SafetensorsFile {
  constructor(
    /** The path or label used in error messages. */
    readonly source: string,
    readonly tensors: Map<string, TypedTensor>,
    readonly metadata: Record<string, string>,
  ) {}

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  get(name: string): TypedTensor {
    const t = this.tensors.get(name);
    if (!t) throw new CheckpointError(`${this.source}: no tensor named '${name}'`);
    return t;
  }

  shape(name: string): number[] {
    return this.get(name).shape;
  }

  /** Values as float32 (F32 data is returned as is, not copied; other dtypes are converted). */
  float32(name: string): Float32Array {
    return toFloat32(this.get(name));
  }

  /** Integer or bool values as int32; values outside the int32 range are an error. */
  int32(name: string): Int32Array {
    const t = this.get(name);
    if (t.dtype === "I32") return t.data as Int32Array;
    if (t.dtype.startsWith("F") || t.dtype === "BF16") {
      throw new CheckpointError(`${this.source}: tensor '${name}' is ${t.dtype}, expected an integer dtype`);
    }
    const out = new Int32Array(t.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = Number(t.data[i]!);
      if (v < -0x80000000 || v > 0x7fffffff) {
        throw new CheckpointError(`${this.source}: tensor '${name}' has value ${t.data[i]} outside the int32 range`);
      }
      out[i] = v;
    }
    return out;
  }

  hostTensor(name: string): HostTensor {
    const t = this.get(name);
    const host = DTYPES[t.dtype].host;
    if (!host)
      throw new CheckpointError(`${this.source}: tensor '${name}' has dtype ${t.dtype}, not loadable as weights`);
    return { shape: [...t.shape], data: toFloat32(t), sourceDtype: host };
  }

  /** Every tensor as float32, in file order. */
  toStateDict(): StateDict {
    return new Map(this.names().map((n) => [n, this.hostTensor(n)]));
  }
}

/** Converts any dtype to float32 (F32 returns the same array). */
export function toFloat32(t: TypedTensor): Float32Array {
  switch (t.dtype) {
    case "F32":
      return t.data as Float32Array;
    case "F16": {
      const out = new Float32Array(t.data.length);
      halfToFloat32(t.data as Uint16Array, out);
      return out;
    }
    case "BF16": {
      const out = new Float32Array(t.data.length);
      bfloat16ToFloat32(t.data as Uint16Array, out);
      return out;
    }
    case "I64":
    case "U64":
      return Float32Array.from(t.data as BigInt64Array, (v) => Number(v));
    default:
      return Float32Array.from(t.data as Float64Array);
  }
}

export interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

export function parseHeader(
  json: Uint8Array,
  bufferLength: number,
  source: string,
): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  const bad = (what: string) => new CheckpointError(`${source}: invalid safetensors header: ${what}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw bad(`not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw bad("expected a JSON object");
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw bad("__metadata__ is not an object");
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") throw bad(`__metadata__['${k}'] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (value ?? {}) as Record<string, unknown>;
    if (typeof dtype !== "string" || !Object.hasOwn(DTYPES, dtype)) throw bad(`'${name}' has unknown dtype ${dtype}`);
    const isIndex = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
    if (!Array.isArray(shape) || !shape.every(isIndex)) throw bad(`'${name}' has an invalid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      throw bad(`'${name}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > bufferLength) {
      throw bad(`'${name}' data_offsets [${begin}, ${end}] lie outside the ${bufferLength}-byte data section`);
    }
    const size = DTYPES[dtype as SafetensorsDType].size;
    if (numel(shape) * size !== end - begin) {
      throw bad(`'${name}' is ${dtype} of shape [${shape.join(", ")}] but spans ${end - begin} bytes`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) throw bad(`'${sorted[i - 1]!.name}' and '${sorted[i]!.name}' overlap`);
  }
  return { entries, metadata };
}

export function headerLength(prefix: Uint8Array, fileLength: number, source: string): number {
  if (fileLength < 8) throw new CheckpointError(`${source}: not a safetensors file: only ${fileLength} bytes`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileLength - 8) || n > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(
      `${source}: invalid safetensors header: declares ${n} header bytes but the file has ${fileLength - 8} after ` +
        "the length field (truncated or not a safetensors file)",
    );
  }
  return Number(n);
}

export function allocate(e: HeaderEntry): TypedData {
  const { size, ctor } = DTYPES[e.dtype];
  return new ctor(new ArrayBuffer(e.end - e.begin), 0, (e.end - e.begin) / size);
}

export function bytesOf(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Parses a whole safetensors file held in memory (tensors are copied out of `bytes`). */
export function parseSafetensors(bytes: Uint8Array, source = "<safetensors bytes>"): SafetensorsFile {
  if (!LITTLE_ENDIAN_HOST) throw new CheckpointError(`${source}: reading safetensors needs a little-endian host`);
  const n = headerLength(bytes, bytes.length, source);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, source);
  const tensors = new Map<string, TypedTensor>();
  for (const e of entries) {
    const data = allocate(e);
    bytesOf(data).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return new SafetensorsFile(source, tensors, metadata);
}
