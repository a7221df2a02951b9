// safetensors files on disk (Node): reading from a path reads each tensor straight into its own
// typed array; writing is atomic (temp file in the same directory, then rename). The format itself,
// on bytes, is safetensors-format.ts.

import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { numel } from "../util/shape.ts";
import { CheckpointError } from "./errors.ts";
import type { HostTensor } from "./host-tensor.ts";
import { openForReading, readFully } from "./read-fully.ts";
import {
  allocate,
  bytesOf,
  DTYPES,
  headerLength,
  LITTLE_ENDIAN_HOST,
  parseHeader,
  parseSafetensors,
  SafetensorsFile,
  type TypedTensor,
} from "./safetensors-format.ts";

export * from "./safetensors-format.ts";

/** Reads a safetensors file from a path (each tensor read once into its own array) or from bytes. */
export async function readSafetensors(source: string | Uint8Array): Promise<SafetensorsFile> {
  if (typeof source !== "string") return parseSafetensors(source);
  const path = source;
  if (!LITTLE_ENDIAN_HOST) throw new CheckpointError(`${path}: reading safetensors needs a little-endian host`);
  const fh = await openForReading(path);
  try {
    const fileLength = (await fh.stat()).size;
    const readAt = (into: Uint8Array, position: number) => readFully(fh, into, position, path);
    const prefix = new Uint8Array(Math.min(8, fileLength));
    await readAt(prefix, 0);
    const n = headerLength(prefix, fileLength, path);
    const json = new Uint8Array(n);
    await readAt(json, 8);
    const dataStart = 8 + n;
    const { entries, metadata } = parseHeader(json, fileLength - dataStart, path);
    const tensors = new Map<string, TypedTensor>();
    for (const e of entries) {
      const data = allocate(e);
      await readAt(bytesOf(data), dataStart + e.begin);
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
    }
    return new SafetensorsFile(path, tensors, metadata);
  } finally {
    await fh.close();
  }
}

/** What `writeSafetensors` accepts: float32 host tensors, or tensors in any safetensors dtype. */
export type WritableTensor = HostTensor | TypedTensor;

function toTyped(name: string, t: WritableTensor, path: string): TypedTensor {
  const typed: TypedTensor = "dtype" in t ? t : { dtype: "F32", shape: t.shape, data: t.data };
  const spec = DTYPES[typed.dtype];
  if (!spec) throw new CheckpointError(`${path}: tensor '${name}' has unknown dtype ${typed.dtype}`);
  if (!typed.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(`${path}: tensor '${name}' has an invalid shape [${typed.shape.join(", ")}]`);
  }
  if (typed.data.BYTES_PER_ELEMENT !== spec.size || typed.data.length !== numel(typed.shape)) {
    throw new CheckpointError(
      `${path}: tensor '${name}': ${typed.dtype} of shape [${typed.shape.join(", ")}] needs ` +
        `${numel(typed.shape)} ${spec.size}-byte elements, got ${typed.data.length} of ${typed.data.BYTES_PER_ELEMENT}`,
    );
  }
  return typed;
}

/**
 * Writes `tensors` to `path` atomically: a temp file in the same directory, synced, then renamed
 * over `path`. Tensors are laid out largest element size first so every tensor stays aligned.
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, WritableTensor> | Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  if (!LITTLE_ENDIAN_HOST) throw new CheckpointError(`${path}: writing safetensors needs a little-endian host`);
  const input = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const items = input.map(([name, t]) => {
    if (name === "" || name === "__metadata__") throw new CheckpointError(`${path}: invalid tensor name '${name}'`);
    return { name, tensor: toTyped(name, t, path) };
  });
  // Stable sort: file order within one element size.
  items.sort((a, b) => DTYPES[b.tensor.dtype].size - DTYPES[a.tensor.dtype].size);

  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new CheckpointError(`${path}: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const { name, tensor } of items) {
    header[name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.byteLength],
    };
    offset += tensor.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned.
  json += " ".repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const jsonBytes = Buffer.from(json, "utf-8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(jsonBytes.length));

  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, "wx");
    await fh.write(prefix);
    await fh.write(jsonBytes);
    for (const { tensor } of items) await writeAll(fh, bytesOf(tensor.data));
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: cannot write safetensors file (${(e as Error).message})`);
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.length - done, 1 << 30));
    done += bytesWritten;
  }
}
