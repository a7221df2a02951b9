// Loads a PyTorch state_dict saved by torch.save (zip container: `<archive>/data.pkl` plus one
// `<archive>/data/<key>` record per storage) into float32 host tensors.
//
// Memory: each storage is read once, straight into its final Float32Array (float32) or converted
// chunk by chunk (other dtypes), so a checkpoint of several GB never exists twice in memory.
// Integer and bool storages (rare in a state_dict) are converted to float32 too; values beyond
// ±2^24 lose precision, and `sourceDtype` says what the file held.

import { numel } from "../util/shape.ts";
import { CheckpointError } from "./errors.ts";
import { bfloat16ToFloat32, halfToFloat32 } from "./half.ts";
import type { HostDType, HostTensor, StateDict } from "./host-tensor.ts";
import { PickleError, PyDict, type PyValue, type StorageRef, type TensorRef, unpickle } from "./pickle.ts";
import { type ZipEntry, ZipFile } from "./zip.ts";

export { CheckpointError } from "./errors.ts";

const ITEM_SIZE: Record<HostDType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

/** Keys under which training scripts commonly nest the state_dict. */
const NESTED_KEYS = ["state_dict", "model"];

/** Elements converted per read for non-float32 storages (bounds the scratch buffer). */
const CHUNK_ELEMENTS = 1 << 22;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads the state_dict in the torch.save checkpoint at `path`. Tensors keep the file's key order.
 * Throws `CheckpointError` naming the file for anything missing, corrupt, unsafe or unsupported.
 */
export async function loadTorchCheckpoint(path: string): Promise<StateDict> {
  if (!LITTLE_ENDIAN_HOST) throw new CheckpointError(`${path}: loading checkpoints needs a little-endian host`);
  const zip = await ZipFile.open(path);
  try {
    const prefix = findArchivePrefix(zip);
    await checkByteOrder(zip, prefix);
    const pickleEntry = zip.entries.get(`${prefix}/data.pkl`)!;
    let root: PyValue;
    try {
      root = unpickle(await zip.readEntry(pickleEntry));
    } catch (e) {
      if (e instanceof PickleError) throw new CheckpointError(`${path}: ${pickleEntry.name}: ${e.message}`);
      throw e;
    }
    const refs = selectStateDict(root, path);
    return await materialize(zip, prefix, refs);
  } finally {
    await zip.close();
  }
}

function findArchivePrefix(zip: ZipFile): string {
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new CheckpointError(
      `${zip.path}: not a torch.save checkpoint: expected one '<archive>/data.pkl' entry, found ${pickles.length}`,
    );
  }
  return pickles[0]!.slice(0, -"/data.pkl".length);
}

async function checkByteOrder(zip: ZipFile, prefix: string): Promise<void> {
  const entry = zip.entries.get(`${prefix}/byteorder`);
  if (!entry || entry.size > 16) return;
  const order = new TextDecoder().decode(await zip.readEntry(entry)).trim();
  if (order !== "little") {
    throw new CheckpointError(`${zip.path}: storages are stored ${order}-endian; only little-endian is supported`);
  }
}

function isTensor(v: PyValue | undefined): v is TensorRef {
  return typeof v === "object" && v !== null && "kind" in v && v.kind === "tensor";
}

function tensorEntries(d: PyDict): [string, TensorRef][] | null {
  const out: [string, TensorRef][] = [];
  for (const [k, v] of d.items) {
    if (typeof k !== "string" || !isTensor(v)) return null;
    out.push([k, v]);
  }
  return out;
}

/** The top-level dict if every value is a tensor, else the first such dict under NESTED_KEYS. */
function selectStateDict(root: PyValue, path: string): [string, TensorRef][] {
  if (!(root instanceof PyDict)) {
    throw new CheckpointError(`${path}: expected a state_dict (a dict of names to tensors) at the top level`);
  }
  const direct = tensorEntries(root);
  if (direct) return direct;
  for (const key of NESTED_KEYS) {
    const nested = root.items.get(key);
    if (nested instanceof PyDict) {
      const entries = tensorEntries(nested);
      if (entries) return entries;
    }
  }
  const keys = [...root.items.keys()].slice(0, 8).map(String).join(", ");
  throw new CheckpointError(
    `${path}: expected a state_dict (a dict of parameter names to tensors) at the top level or under ` +
      `${NESTED_KEYS.map((k) => `'${k}'`).join("/")}; found keys: ${keys}`,
  );
}

interface StoragePlan {
  ref: StorageRef;
  entry: ZipEntry;
  tensors: [string, TensorRef][];
}

async function materialize(zip: ZipFile, prefix: string, refs: [string, TensorRef][]): Promise<StateDict> {
  const plans = new Map<string, StoragePlan>();
  for (const [name, t] of refs) {
    const s = t.storage;
    let plan = plans.get(s.key);
    if (!plan) {
      const entry = zip.entries.get(`${prefix}/data/${s.key}`);
      if (!entry) throw new CheckpointError(`${zip.path}: storage record '${prefix}/data/${s.key}' is missing`);
      const bytes = s.numel * ITEM_SIZE[s.dtype];
      if (entry.size < bytes) {
        throw new CheckpointError(
          `${zip.path}: storage '${s.key}' should hold ${s.numel} ${s.dtype} values (${bytes} bytes) ` +
            `but its record has ${entry.size} bytes`,
        );
      }
      plan = { ref: s, entry, tensors: [] };
      plans.set(s.key, plan);
    } else if (plan.ref.dtype !== s.dtype || plan.ref.numel !== s.numel) {
      throw new CheckpointError(`${zip.path}: storage '${s.key}' is described inconsistently by different tensors`);
    }
    checkExtent(zip.path, name, t);
    plan.tensors.push([name, t]);
  }

  const tensors = new Map<string, HostTensor>();
  // Sequential file order: one pass over the archive.
  const ordered = [...plans.values()].sort((a, b) => a.entry.localHeaderOffset - b.entry.localHeaderOffset);
  for (const plan of ordered) {
    const storage = await readStorage(zip, plan);
    let storageGiven = false;
    for (const [name, t] of plan.tensors) {
      const whole = t.offset === 0 && numel(t.shape) === storage.length && isContiguous(t.shape, t.stride);
      let data: Float32Array;
      if (whole && !storageGiven) {
        data = storage;
        storageGiven = true;
      } else {
        data = gather(storage, t);
      }
      tensors.set(name, { shape: [...t.shape], data, sourceDtype: t.storage.dtype });
    }
  }
  // Back to key order (storages were read in file order).
  return new Map(refs.map(([name]) => [name, tensors.get(name)!]));
}

function checkExtent(path: string, name: string, t: TensorRef): void {
  const n = numel(t.shape);
  if (n > t.storage.numel) {
    throw new CheckpointError(
      `${path}: tensor '${name}' of shape [${t.shape.join(", ")}] has more elements than its storage ` +
        `(${t.storage.numel}); broadcast (stride-0) views are not supported`,
    );
  }
  if (n === 0) return;
  let last = t.offset;
  for (let i = 0; i < t.shape.length; i++) last += (t.shape[i]! - 1) * t.stride[i]!;
  if (!(last < t.storage.numel)) {
    throw new CheckpointError(
      `${path}: tensor '${name}' (offset ${t.offset}, shape [${t.shape.join(", ")}], stride ` +
        `[${t.stride.join(", ")}]) reaches element ${last} but its storage holds ${t.storage.numel}`,
    );
  }
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** A contiguous copy of a (possibly strided) view of `storage`. */
function gather(storage: Float32Array, t: TensorRef): Float32Array {
  const n = numel(t.shape);
  if (isContiguous(t.shape, t.stride)) return storage.slice(t.offset, t.offset + n);
  const out = new Float32Array(n);
  const rank = t.shape.length;
  const index = new Array<number>(rank).fill(0);
  let src = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = storage[src]!;
    // Odometer increment over the multi-index, adjusting the source offset incrementally.
    for (let d = rank - 1; d >= 0; d--) {
      src += t.stride[d]!;
      if (++index[d]! < t.shape[d]!) break;
      src -= t.stride[d]! * t.shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Reads one storage into a new Float32Array of `numel` elements (its record's CRC-32 checked). */
async function readStorage(zip: ZipFile, plan: StoragePlan): Promise<Float32Array> {
  const { ref, entry } = plan;
  const reader = await zip.openEntry(entry);
  const out = new Float32Array(ref.numel);
  if (ref.dtype === "float32") {
    await reader.read(new Uint8Array(out.buffer));
  } else {
    const itemSize = ITEM_SIZE[ref.dtype];
    const scratch = new ArrayBuffer(Math.min(ref.numel, CHUNK_ELEMENTS) * itemSize);
    for (let done = 0; done < ref.numel; done += CHUNK_ELEMENTS) {
      const count = Math.min(CHUNK_ELEMENTS, ref.numel - done);
      await reader.read(new Uint8Array(scratch, 0, count * itemSize));
      convertChunk(ref.dtype, scratch, count, out, done);
    }
  }
  await reader.finish();
  return out;
}

function convertChunk(dtype: HostDType, raw: ArrayBuffer, count: number, out: Float32Array, at: number): void {
  switch (dtype) {
    case "float16":
      halfToFloat32(new Uint16Array(raw, 0, count), out, at);
      break;
    case "bfloat16":
      bfloat16ToFloat32(new Uint16Array(raw, 0, count), out, at);
      break;
    case "float64":
      out.set(new Float64Array(raw, 0, count), at);
      break;
    case "int32":
      out.set(new Int32Array(raw, 0, count), at);
      break;
    case "uint8":
    case "bool":
      out.set(new Uint8Array(raw, 0, count), at);
      break;
    case "int64": {
      const src = new BigInt64Array(raw, 0, count);
      for (let i = 0; i < count; i++) out[at + i] = Number(src[i]!);
      break;
    }
    case "float32":
      out.set(new Float32Array(raw, 0, count), at);
      break;
  }
}
