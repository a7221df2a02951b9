// Test helpers: build torch.save-style archives byte by byte (a small STORED zip writer and a
// protocol-2 pickle writer for state_dicts), so refusal and edge cases need no PyTorch.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { FIXTURES, fixturePath as fixture } from "../fixtures.ts";

export function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "glide-io-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A STORED zip. With `zip64`, every central entry saturates its sizes and offset and carries the
 * zip64 extra field, and the archive ends with zip64 end records (as torch writes them).
 */
export function makeZip(files: { name: string; data: Uint8Array }[], zip64 = false): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, "utf-8");
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, Buffer.from(f.data));

    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(f.data.length), 4);
      extra.writeBigUInt64LE(BigInt(f.data.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(zip64 ? 45 : 20, 4);
    c.writeUInt16LE(zip64 ? 45 : 20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(zip64 ? 0xffffffff : f.data.length, 20);
    c.writeUInt32LE(zip64 ? 0xffffffff : f.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    central.push(c, name, extra);
    offset += 30 + name.length + f.data.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (zip64) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(files.length), 24);
    z.writeBigUInt64LE(BigInt(files.length), 32);
    z.writeBigUInt64LE(BigInt(cd.length), 40);
    z.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(z, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : files.length, 8);
  eocd.writeUInt16LE(zip64 ? 0xffff : files.length, 10);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, ...tail, eocd]));
}

/** Incremental protocol-2 pickle writer (only the opcodes torch uses for a state_dict). */
export class PickleWriter {
  private readonly bytes: number[] = [0x80, 2];
  op(code: string): this {
    this.bytes.push(code.charCodeAt(0));
    return this;
  }
  raw(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, "utf-8");
    this.bytes.push(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b);
    return this;
  }
  int(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.bytes.push(0x4a, ...b);
    return this;
  }
  global(module: string, name: string): this {
    this.bytes.push(0x63, ...Buffer.from(`${module}\n${name}\n`, "latin1"));
    return this;
  }
  ints(values: number[]): this {
    this.op("(");
    for (const v of values) this.int(v);
    return this.op("t");
  }
  done(): Uint8Array {
    return new Uint8Array([...this.bytes, 0x2e]);
  }
}

export interface FakeTensor {
  name: string;
  storageKey: string;
  storageClass?: string;
  storageNumel: number;
  offset?: number;
  shape: number[];
  stride?: number[];
}

function contiguous(shape: number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s.unshift(acc);
    acc *= shape[i]!;
  }
  return s;
}

/** Writes `_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())`. */
export function writeTensor(w: PickleWriter, t: FakeTensor): PickleWriter {
  w.global("torch._utils", "_rebuild_tensor_v2").op("(");
  w.op("(")
    .str("storage")
    .global("torch", t.storageClass ?? "FloatStorage")
    .str(t.storageKey)
    .str("cpu");
  w.int(t.storageNumel).op("t").op("Q");
  w.int(t.offset ?? 0)
    .ints(t.shape)
    .ints(t.stride ?? contiguous(t.shape));
  w.raw(0x89).global("collections", "OrderedDict").op(")").op("R");
  return w.op("t").op("R");
}

/** Pickle bytes of a state_dict (a plain dict) of the given tensors, optionally nested under `nestUnder`. */
export function stateDictPickle(tensors: FakeTensor[], nestUnder?: string): Uint8Array {
  const w = new PickleWriter().op("}");
  if (nestUnder) w.op("(").str("epoch").int(3).str(nestUnder).op("}");
  w.op("(");
  for (const t of tensors) writeTensor(w.str(t.name), t);
  w.op("u");
  if (nestUnder) w.op("u");
  return w.done();
}

/** A torch.save-style archive: `<prefix>/data.pkl`, `<prefix>/data/<key>`, `<prefix>/version`. */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  options: { prefix?: string; zip64?: boolean } = {},
): Uint8Array {
  const prefix = options.prefix ?? "archive";
  const files = [{ name: `${prefix}/data.pkl`, data: pickle }];
  for (const [key, data] of Object.entries(storages)) files.push({ name: `${prefix}/data/${key}`, data });
  files.push({ name: `${prefix}/version`, data: new TextEncoder().encode("3\n") });
  return makeZip(files, options.zip64);
}

export const f32bytes = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
