// A restricted unpickler for PyTorch state_dict pickles (the `data.pkl` of a torch.save zip).
//
// It never executes anything: the only globals it accepts are a fixed allowlist (OrderedDict, the
// torch tensor-rebuild functions, the typed storage classes, `_codecs.encode`), each implemented
// here as plain data construction. Tensors come out as descriptors (`TensorRef`) that point at a
// storage record by key; the caller reads the bytes. Every length read from the stream is checked
// against the bytes remaining before anything is allocated.

import { GlideError } from "../errors.ts";
import type { HostDType } from "./host-tensor.ts";

/** The stream is malformed or asks for something outside the allowlist. */
export class PickleError extends GlideError {
  override name = "PickleError";
}

/** A typed storage named by a persistent id: ('storage', torch.XStorage, key, location, numel). */
export interface StorageRef {
  kind: "storage";
  key: string;
  dtype: HostDType;
  location: string;
  /** Number of elements (not bytes). */
  numel: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage. */
export interface TensorRef {
  kind: "tensor";
  storage: StorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  /** In elements. */
  stride: number[];
}

export type PyKey = string | number | bigint | boolean | null;

/** A Python dict or collections.OrderedDict; `attributes` holds BUILD state such as `_metadata`. */
export class PyDict {
  readonly items = new Map<PyKey, PyValue>();
  attributes: PyDict | null = null;
  constructor(readonly ordered: boolean) {}
}

/** An allowlisted global: a callable or a storage class. */
export interface PyGlobal {
  kind: "global";
  module: string;
  name: string;
}

/** Tuples, lists and sets all become arrays: a state_dict never needs the difference. */
export type PyValue = PyKey | Uint8Array | PyValue[] | PyDict | TensorRef | StorageRef | PyGlobal;

export const STORAGE_CLASSES: Readonly<Record<string, { dtype: HostDType; itemSize: number }>> = {
  FloatStorage: { dtype: "float32", itemSize: 4 },
  HalfStorage: { dtype: "float16", itemSize: 2 },
  BFloat16Storage: { dtype: "bfloat16", itemSize: 2 },
  DoubleStorage: { dtype: "float64", itemSize: 8 },
  LongStorage: { dtype: "int64", itemSize: 8 },
  IntStorage: { dtype: "int32", itemSize: 4 },
  ByteStorage: { dtype: "uint8", itemSize: 1 },
  BoolStorage: { dtype: "bool", itemSize: 1 },
};

const CALLABLES = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "_codecs.encode",
]);

function resolveGlobal(module: string, name: string): PyGlobal {
  const full = `${module}.${name}`;
  if (CALLABLES.has(full) || (module === "torch" && Object.hasOwn(STORAGE_CLASSES, name))) {
    return { kind: "global", module, name };
  }
  throw new PickleError(
    `refusing global '${full}': only collections.OrderedDict, torch._utils._rebuild_tensor_v2 / ` +
      "_rebuild_parameter and torch.*Storage classes are allowed in a state_dict",
  );
}

function isObject(v: PyValue, kind: string): boolean {
  return typeof v === "object" && v !== null && "kind" in v && v.kind === kind;
}

function describe(v: PyValue): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return "tuple/list";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof PyDict) return "dict";
  if (typeof v === "object") return v.kind === "global" ? `${v.module}.${v.name}` : v.kind;
  return typeof v;
}

function asInt(v: PyValue | undefined, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  throw new PickleError(`${what}: expected an integer, got ${v === undefined ? "nothing" : describe(v)}`);
}

function asIntList(v: PyValue | undefined, what: string): number[] {
  if (!Array.isArray(v)) throw new PickleError(`${what}: expected a tuple of integers`);
  return v.map((x, i) => asInt(x, `${what}[${i}]`));
}

function persistentLoad(pid: PyValue): StorageRef {
  if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== "storage") {
    throw new PickleError("persistent id: expected ('storage', storage_type, key, location, numel)");
  }
  const [, type, key, location, n] = pid;
  if (!isObject(type!, "global") || (type as PyGlobal).module !== "torch") {
    throw new PickleError(`persistent id: expected a torch storage class, got ${describe(type!)}`);
  }
  const cls = STORAGE_CLASSES[(type as PyGlobal).name];
  if (!cls) throw new PickleError(`persistent id: unsupported storage class torch.${(type as PyGlobal).name}`);
  if (typeof key !== "string" || typeof location !== "string") {
    throw new PickleError("persistent id: storage key and location must be strings");
  }
  const numel = asInt(n, "persistent id numel");
  if (numel < 0) throw new PickleError(`persistent id: negative numel ${numel}`);
  return { kind: "storage", key, dtype: cls.dtype, location, numel };
}

function rebuildTensor(args: PyValue[]): TensorRef {
  if (args.length < 4) throw new PickleError("_rebuild_tensor_v2: expected (storage, offset, size, stride, ...)");
  const storage = args[0]!;
  if (!isObject(storage, "storage")) {
    throw new PickleError(`_rebuild_tensor_v2: expected a storage, got ${describe(storage)}`);
  }
  const offset = asInt(args[1], "_rebuild_tensor_v2 storage_offset");
  const shape = asIntList(args[2], "_rebuild_tensor_v2 size");
  const stride = asIntList(args[3], "_rebuild_tensor_v2 stride");
  if (shape.length !== stride.length) {
    throw new PickleError(`_rebuild_tensor_v2: size has ${shape.length} dims but stride has ${stride.length}`);
  }
  if (offset < 0 || shape.some((d) => d < 0) || stride.some((s) => s < 0)) {
    throw new PickleError("_rebuild_tensor_v2: negative offset, size or stride");
  }
  return { kind: "tensor", storage: storage as StorageRef, offset, shape, stride };
}

function call(fn: PyValue, args: PyValue): PyValue {
  if (!isObject(fn, "global")) throw new PickleError(`REDUCE: cannot call ${describe(fn)}`);
  const { module, name } = fn as PyGlobal;
  const full = `${module}.${name}`;
  if (!Array.isArray(args)) throw new PickleError(`REDUCE ${full}: arguments are not a tuple`);
  switch (full) {
    case "collections.OrderedDict":
      if (args.length !== 0) throw new PickleError("OrderedDict(...) with arguments is not supported");
      return new PyDict(true);
    case "torch._utils._rebuild_tensor_v2":
      return rebuildTensor(args);
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state":
      if (!isObject(args[0] ?? null, "tensor")) throw new PickleError(`${full}: expected a tensor`);
      return args[0]!;
    case "_codecs.encode":
      // How protocol 2 spells a bytes object: _codecs.encode(str, 'latin1').
      if (typeof args[0] !== "string" || (args[1] !== "latin1" && args[1] !== "latin-1")) {
        throw new PickleError("_codecs.encode: only encode(str, 'latin1') is supported");
      }
      return Uint8Array.from(args[0], (c) => c.charCodeAt(0) & 0xff);
    default:
      throw new PickleError(`REDUCE: '${full}' is not callable`);
  }
}

function toKey(v: PyValue): PyKey {
  if (v === null || typeof v !== "object") return v;
  throw new PickleError(`dict key of type ${describe(v)} is not supported`);
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number | bigint, what: string): number {
    const remaining = this.bytes.length - this.pos;
    if (n < 0 || n > remaining) {
      throw new PickleError(`${what} at byte ${this.pos} claims ${n} bytes but only ${remaining} remain`);
    }
    return Number(n);
  }
  u8(): number {
    this.need(1, "opcode argument");
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2, "opcode argument");
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4, "opcode argument");
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4, "opcode argument");
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8, "opcode argument");
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  f64be(): number {
    this.need(8, "opcode argument");
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }
  take(n: number | bigint, what: string): Uint8Array {
    const len = this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  line(what: string): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new PickleError(`${what} at byte ${this.pos}: missing newline`);
    const s = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

const utf8 = new TextDecoder("utf-8");
function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Little-endian two's complement (LONG1 / LONG4) → number when safe, else bigint. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return normalizeInt(v);
}

function normalizeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseDecimal(text: string, what: string): number | bigint {
  if (!/^[+-]?\d+$/.test(text)) throw new PickleError(`${what}: bad integer literal '${text}'`);
  return normalizeInt(BigInt(text));
}

/**
 * Unpickles `bytes` (protocols 0–5, simple opcodes only) and returns the top-level object.
 * Tensors appear as `TensorRef`, dicts as `PyDict`.
 */
export function unpickle(bytes: Uint8Array): PyValue {
  const r = new Reader(bytes);
  const stack: PyValue[] = [];
  // Stack heights at each open MARK (Python's metastack).
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      throw new PickleError(`stack underflow at byte ${r.pos}`);
    }
    return stack.pop()!;
  };
  const top = (): PyValue => {
    const v = pop();
    stack.push(v);
    return v;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError(`MARK expected at byte ${r.pos}`);
    return stack.splice(m);
  };
  const list = (v: PyValue, op: string): PyValue[] => {
    if (!Array.isArray(v)) throw new PickleError(`${op} on ${describe(v)}`);
    return v;
  };
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof PyDict)) throw new PickleError(`SETITEM(S) on ${describe(d)}`);
    if (kv.length % 2) throw new PickleError("SETITEMS with an odd number of items");
    for (let i = 0; i < kv.length; i += 2) d.items.set(toKey(kv[i]!), kv[i + 1]!);
  };
  const memoGet = (i: number): PyValue => {
    const v = memo.get(i);
    if (v === undefined) throw new PickleError(`memo entry ${i} read before it was written`);
    return v;
  };

  for (;;) {
    const at = r.pos;
    if (at >= bytes.length) throw new PickleError("pickle ended without STOP (truncated?)");
    const op = r.u8();
    switch (op) {
      case 0x80: // PROTO
        if (r.u8() > 5) throw new PickleError("pickle protocol above 5 is not supported");
        break;
      case 0x95: // FRAME: only a hint for buffered readers
        r.u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) throw new PickleError("STOP with a malformed stack");
        return stack[0]!;
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;

      // Constants and numbers.
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(r.u8());
        break;
      case 0x4d: // BININT2
        stack.push(r.u16());
        break;
      case 0x4a: // BININT
        stack.push(r.i32());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(r.take(r.u8(), "LONG1")));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(r.take(r.i32(), "LONG4")));
        break;
      case 0x49: {
        // INT (text): "00"/"01" are protocol-0 booleans
        const s = r.line("INT");
        stack.push(s === "00" ? false : s === "01" ? true : parseDecimal(s, "INT"));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(parseDecimal(r.line("LONG").replace(/L$/, ""), "LONG"));
        break;
      case 0x47: // BINFLOAT
        stack.push(r.f64be());
        break;
      case 0x46: {
        // FLOAT (text)
        const s = r.line("FLOAT");
        const v = Number(s);
        if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)) throw new PickleError(`FLOAT: bad literal '${s}'`);
        stack.push(v);
        break;
      }

      // Strings and bytes.
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(r.take(r.u32(), "BINUNICODE")));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(r.take(r.u8(), "SHORT_BINUNICODE")));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(r.take(r.u64(), "BINUNICODE8")));
        break;
      case 0x42: // BINBYTES
        stack.push(r.take(r.u32(), "BINBYTES").slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(r.take(r.u8(), "SHORT_BINBYTES").slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(r.take(r.u64(), "BINBYTES8").slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(r.take(r.u64(), "BYTEARRAY8").slice());
        break;
      case 0x54: // BINSTRING (Python 2 str): decoded as latin-1
        stack.push(latin1(r.take(r.i32(), "BINSTRING")));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(r.take(r.u8(), "SHORT_BINSTRING")));
        break;
      case 0x56: {
        // UNICODE (text, raw-unicode-escape)
        const s = r.line("UNICODE");
        stack.push(
          s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a: string, b: string) =>
            String.fromCodePoint(Number.parseInt(a ?? b, 16)),
          ),
        );
        break;
      }
      case 0x53: {
        // STRING (text, Python repr): only quoted strings without escapes
        const m = /^(['"])([^\\]*)\1$/.exec(r.line("STRING"));
        if (!m) throw new PickleError(`STRING at byte ${at}: escaped protocol-0 strings are not supported`);
        stack.push(m[2]!);
        break;
      }

      // Containers.
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        list(top(), "APPEND").push(v);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        list(top(), "APPENDS").push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict(false));
        break;
      case 0x64: {
        // DICT
        const d = new PyDict(false);
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }

      // Memo.
      case 0x71: // BINPUT
        memo.set(r.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(r.u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(asInt(parseDecimal(r.line("PUT"), "PUT") as PyValue, "PUT"), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(r.u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(r.u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(asInt(parseDecimal(r.line("GET"), "GET") as PyValue, "GET")));
        break;

      // Globals, calls and objects: allowlisted only.
      case 0x63: {
        // GLOBAL
        const module = r.line("GLOBAL");
        stack.push(resolveGlobal(module, r.line("GLOBAL")));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw new PickleError("STACK_GLOBAL: module and name must be strings");
        }
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x62: {
        // BUILD: torch writes OrderedDict state {'_metadata': ...}; anything else is refused
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict) || !(state instanceof PyDict)) {
          throw new PickleError(`BUILD on ${describe(obj)} with ${describe(state)} state is not supported`);
        }
        obj.attributes = state;
        break;
      }
      case 0x50: // PERSID (text)
        throw new PickleError(`PERSID (protocol-0 persistent id) at byte ${at} is not supported`);
      case 0x69: {
        // INST
        const module = r.line("INST");
        throw new PickleError(`refusing INST of '${module}.${r.line("INST")}': object construction is not allowed`);
      }
      default: {
        const names: Record<number, string> = {
          111: "OBJ",
          129: "NEWOBJ",
          146: "NEWOBJ_EX",
          130: "EXT1",
          131: "EXT2",
          132: "EXT4",
          151: "NEXT_BUFFER",
          152: "READONLY_BUFFER",
        };
        const name = names[op];
        throw new PickleError(
          name
            ? `refusing opcode ${name} at byte ${at}: object construction is not allowed`
            : `unknown opcode 0x${op.toString(16).padStart(2, "0")} at byte ${at}`,
        );
      }
    }
  }
}
