import assert from "node:assert/strict";
import { test } from "node:test";
import { PickleError, PyDict, type TensorRef, unpickle } from "../../packages/glide-ts/src/io/pickle.ts";
import { PickleWriter, stateDictPickle } from "./helpers.ts";

const bytes = (...parts: (number | string)[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "number" ? [p] : [...Buffer.from(p, "latin1")])));

function refuses(data: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => unpickle(data),
    (e: unknown) => e instanceof PickleError && pattern.test(e.message),
  );
}

test("state_dict pickle: tensors come out as storage descriptors", () => {
  const pkl = stateDictPickle([
    {
      name: "a",
      storageKey: "0",
      storageClass: "HalfStorage",
      storageNumel: 6,
      offset: 2,
      shape: [2, 2],
      stride: [1, 2],
    },
  ]);
  const root = unpickle(pkl);
  assert.ok(root instanceof PyDict);
  const a = root.items.get("a") as TensorRef;
  assert.equal(a.kind, "tensor");
  assert.deepEqual(a.storage, { kind: "storage", key: "0", dtype: "float16", location: "cpu", numel: 6 });
  assert.equal(a.offset, 2);
  assert.deepEqual(a.shape, [2, 2]);
  assert.deepEqual(a.stride, [1, 2]);
});

test("OrderedDict with BUILD _metadata, as torch writes a module's state_dict", () => {
  const w = new PickleWriter().global("collections", "OrderedDict").op(")").op("R");
  w.op("(").str("x").int(1).str("y").int(2).op("u");
  w.op("}").str("_metadata").global("collections", "OrderedDict").op(")").op("R");
  w.str("").op("}").str("version").int(1).op("s").op("s").op("s").op("b");
  const root = unpickle(w.done());
  assert.ok(root instanceof PyDict && root.ordered);
  assert.deepEqual(
    [...root.items],
    [
      ["x", 1],
      ["y", 2],
    ],
  );
  assert.ok(root.attributes?.items.get("_metadata") instanceof PyDict);
});

test("protocol 4/5 opcodes: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, LONG1, BINFLOAT, lists", () => {
  const data = bytes(
    0x80,
    4,
    0x95,
    ...new Array(8).fill(0), // FRAME (length is only a hint)
    0x8c,
    11,
    "collections",
    0x94, // MEMOIZE -> 0
    0x8c,
    11,
    "OrderedDict",
    0x94,
    0x93, // STACK_GLOBAL
    ")",
    "R",
    0x94, // the dict -> memo 2
    "(",
    0x8c,
    3,
    "big",
    0x8a,
    9,
    ...[0, 0, 0, 0, 0, 0, 0, 0, 1], // LONG1 2^64
    0x8c,
    3,
    "neg",
    0x8a,
    1,
    0xff, // LONG1 -1
    0x8c,
    3,
    "flt",
    "G",
    ...[0x3f, 0xf8, 0, 0, 0, 0, 0, 0], // BINFLOAT 1.5 (big-endian)
    0x8c,
    3,
    "lst",
    "]",
    "(",
    "N",
    0x88,
    0x89,
    "K",
    7,
    "e", // APPENDS
    0x8c,
    3,
    "raw",
    "C",
    2,
    0xde,
    0xad, // SHORT_BINBYTES
    "u",
    ".",
  );
  const root = unpickle(data) as PyDict;
  assert.equal(root.items.get("big"), 2n ** 64n);
  assert.equal(root.items.get("neg"), -1);
  assert.equal(root.items.get("flt"), 1.5);
  assert.deepEqual(root.items.get("lst"), [null, true, false, 7]);
  assert.deepEqual(root.items.get("raw"), new Uint8Array([0xde, 0xad]));
});

test("protocol 0 text opcodes: INT, LONG, FLOAT, UNICODE, PUT/GET, DICT, LIST", () => {
  const pairs = ["Vk\\u00e9\n", "I42\n", "Vb\n", "I01\n", "Vf\n", "F0.25\n", "Vl\n", "L-5L\n", "p0\n"];
  const value = unpickle(bytes("(", "l", "(", ...pairs, "d", "a", "g0\n", "a", "."));
  assert.ok(Array.isArray(value));
  assert.equal(value.length, 2);
  assert.equal(value[1], -5);
  const d = value[0] as PyDict;
  assert.deepEqual(
    [...d.items],
    [
      ["ké", 42],
      ["b", true],
      ["f", 0.25],
      ["l", -5],
    ],
  );
});

test("refuses globals outside the allowlist, by GLOBAL and by STACK_GLOBAL", () => {
  refuses(bytes(0x80, 2, "cos\nsystem\n", "X", 2, 0, 0, 0, "ls", 0x85, "R", "."), /refusing global 'os\.system'/);
  refuses(bytes(0x80, 2, "cbuiltins\neval\n", "."), /'builtins\.eval'/);
  refuses(bytes(0x80, 4, 0x8c, 8, "builtins", 0x8c, 4, "exec", 0x93, "."), /'builtins\.exec'/);
  refuses(bytes(0x80, 2, "ctorch\nload\n", "."), /'torch\.load'/);
  refuses(bytes(0x80, 2, "ctorch._utils\n_rebuild_qtensor\n", "."), /'torch\._utils\._rebuild_qtensor'/);
});

test("refuses object construction opcodes and misuse of allowed globals", () => {
  refuses(bytes("(", "ios\nsystem\n", "."), /INST of 'os\.system'/);
  refuses(bytes(0x80, 2, "(", "ccollections\nOrderedDict\n", "o", "."), /OBJ/);
  refuses(bytes(0x80, 2, "ccollections\nOrderedDict\n", ")", 0x81, "."), /NEWOBJ/);
  refuses(bytes(0x80, 2, 0x82, 1, "."), /EXT1/);
  // Calling a storage class, or BUILD on something that is not a dict.
  refuses(bytes(0x80, 2, "ctorch\nFloatStorage\n", ")", "R", "."), /not callable/);
  refuses(bytes(0x80, 2, "]", "}", "b", "."), /BUILD on tuple\/list/);
  refuses(
    bytes(0x80, 2, "ccollections\nOrderedDict\n", "K", 1, 0x85, "R", "."),
    /OrderedDict\(\.\.\.\) with arguments/,
  );
  // A persistent id that is not a torch storage.
  refuses(bytes(0x80, 2, "X", 1, 0, 0, 0, "x", "Q", "."), /persistent id/);
});

test("refuses forged lengths before allocating", () => {
  refuses(
    bytes(0x80, 2, "X", 0xff, 0xff, 0xff, 0x7f, "abc"),
    /BINUNICODE at byte 7 claims 2147483647 bytes but only 3 remain/,
  );
  refuses(bytes(0x80, 3, "B", 0xff, 0xff, 0xff, 0xff, "."), /BINBYTES .*claims 4294967295 bytes/);
  refuses(bytes(0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x80, "."), /BINBYTES8 .*claims 9223372036854775808 bytes/);
  refuses(bytes(0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), /BINUNICODE8 .*claims/);
  refuses(bytes(0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, "."), /LONG4 .*claims/);
  refuses(bytes(0x80, 2, "T", 0xff, 0xff, 0xff, 0xff, "."), /BINSTRING .*claims -1 bytes/);
});

test("refuses malformed streams: no STOP, stack underflow, bad memo, unknown opcode", () => {
  refuses(bytes(0x80, 2, "N"), /ended without STOP/);
  refuses(bytes(0x80, 2, "s", "."), /stack underflow/);
  refuses(bytes(0x80, 2, "h", 5, "."), /memo entry 5/);
  refuses(bytes(0x80, 2, 0xff), /unknown opcode 0xff/);
  refuses(bytes(0x80, 2, "N", "N", "."), /STOP with a malformed stack/);
  refuses(bytes(0x80, 2, "(", "N", "s", "."), /stack underflow/);
});
