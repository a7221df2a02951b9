// A checkpoint file of either format this project reads — a torch.save archive (.pt) or a
// safetensors file — recognised by its first bytes, and its conversion to float32 safetensors.

import { access, open, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { countParameters } from "./check-state-dict.ts";
import { safetensorsContents } from "./checkpoint-contents.ts";

export { TRAINING_CHECKPOINT_FORMAT } from "./checkpoint-contents.ts";

import { CheckpointError } from "./errors.ts";
import { float32ToHalf } from "./half.ts";
import type { HostDType, StateDict } from "./host-tensor.ts";
import { verifyKnownDigest } from "./known-digests.ts";
import { readSafetensors, type WritableTensor, writeSafetensors } from "./safetensors.ts";
import { roundToStored, SPARSE_ROWS_METADATA, sparseRows } from "./sparse-rows.ts";
import { loadTorchCheckpoint } from "./torch-checkpoint.ts";

export type CheckpointFormat = "torch" | "safetensors";

export interface CheckpointFile {
  path: string;
  format: CheckpointFormat;
  /** Every tensor as float32, in file order; `sourceDtype` says what the file held. */
  stateDict: StateDict;
  /** A safetensors file's `__metadata__` (empty for torch files). */
  metadata: Record<string, string>;
  /** File size in bytes. */
  bytes: number;
}

const ZIP_MAGIC = [0x50, 0x4b]; // "PK"
const PICKLE_PROTO = 0x80;

/** What the first bytes of a file say it is. */
async function sniff(path: string): Promise<{ format: CheckpointFormat | "legacy-torch" | null; bytes: number }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CheckpointError(`${path}: no such file`);
    if (code === "EISDIR") throw new CheckpointError(`${path}: is a directory, expected a checkpoint file`);
    throw new CheckpointError(`${path}: cannot open (${(e as Error).message})`);
  }
  try {
    const info = await fh.stat();
    if (info.isDirectory()) throw new CheckpointError(`${path}: is a directory, expected a checkpoint file`);
    const size = info.size;
    const head = new Uint8Array(9);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead === 0) throw new CheckpointError(`${path}: empty file, expected a checkpoint`);
    if (head[0] === ZIP_MAGIC[0] && head[1] === ZIP_MAGIC[1]) return { format: "torch", bytes: size };
    if (head[0] === PICKLE_PROTO && head[1]! >= 2 && head[1]! <= 5) return { format: "legacy-torch", bytes: size };
    // safetensors: a little-endian u64 header length, then a JSON object.
    if (bytesRead === 9 && head[8] === 0x7b /* { */) return { format: "safetensors", bytes: size };
    if (path.endsWith(".safetensors")) return { format: "safetensors", bytes: size };
    if (/\.(pt|pth|bin|ckpt)$/.test(path)) return { format: "torch", bytes: size };
    return { format: null, bytes: size };
  } finally {
    await fh.close();
  }
}

/**
 * Loads a checkpoint, torch.save (.pt) or safetensors, whatever its name. Errors are
 * CheckpointErrors naming the file: missing, empty, truncated, corrupt or of another format.
 */
export async function loadCheckpointFile(path: string): Promise<CheckpointFile> {
  const { format, bytes } = await sniff(path);
  if (format === "legacy-torch") {
    throw new CheckpointError(
      `${path}: a legacy (pre-1.6, non-zip) torch.save file is not supported; re-save it with a newer PyTorch`,
    );
  }
  if (format === null) {
    throw new CheckpointError(`${path}: not a checkpoint: expected a torch.save (.pt, zip) or a safetensors file`);
  }
  // A catalogued file (shipped, or downloaded) is checked against its digest first.
  await verifyKnownDigest(path);
  if (format === "torch") return { path, format, stateDict: await loadTorchCheckpoint(path), metadata: {}, bytes };
  const file = await readSafetensors(path);
  return { path, format, ...safetensorsContents(file), bytes };
}

/** The dtypes a state dict's file held, in order of first appearance, with tensor and element counts. */
export function sourceDtypes(stateDict: StateDict): Map<HostDType, { tensors: number; parameters: number }> {
  const out = new Map<HostDType, { tensors: number; parameters: number }>();
  for (const t of stateDict.values()) {
    const entry = out.get(t.sourceDtype) ?? { tensors: 0, parameters: 0 };
    entry.tensors += 1;
    entry.parameters += t.data.length;
    out.set(t.sourceDtype, entry);
  }
  return out;
}

export interface ConvertOptions {
  /** Replace an existing output file (default: refuse). */
  force?: boolean;
  /** The stored dtype: float32 (default) or float16 (half the size; loads as float32). */
  dtype?: "float32" | "float16";
  /**
   * The sampling settings to recommend with these weights (the `sampling` metadata the pipelines
   * read; checked when the file is loaded). Default: the input's own, if any.
   */
  sampling?: { sampler: string; steps: number; guidance: number };
  /**
   * Store only the token-embedding rows that differ from their initial values under this init
   * seed (the seed training started from); the reader makes the rest again (sparse-rows.ts).
   */
  embeddingInitSeed?: number;
}

export interface ConvertSummary {
  input: string;
  output: string;
  tensors: number;
  parameters: number;
  sourceDtypes: HostDType[];
  dtype: "float32" | "float16";
  metadata: Record<string, string>;
  /** With `embeddingInitSeed`: the token-embedding rows stored, of all its rows. */
  embeddingRows?: { stored: number; total: number };
}

/** The table `embeddingInitSeed` thins, and its initializer (nn.Embedding's N(0, 1)). */
const TOKEN_EMBEDDING = "token_embedding.weight";
const TOKEN_EMBEDDING_STD = 1;

/**
 * Writes the checkpoint `input` (torch.save or safetensors) to `output` as float32 (or float16)
 * safetensors, in the input's key order, atomically (nothing is left half-written), with metadata
 * naming the source file and its dtype(s); a configuration the input carries is kept. Refuses to
 * replace an existing file unless `force`.
 */
/** The same path, or two names (a link, a hard link) of one file. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true;
  const [sa, sb] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

export async function convertToSafetensors(
  input: string,
  output: string,
  options: ConvertOptions = {},
): Promise<ConvertSummary> {
  if (await sameFile(input, output)) {
    throw new CheckpointError(`${output}: the output would overwrite the input; choose another path`);
  }
  if (!options.force && (await exists(output))) {
    throw new CheckpointError(`${output}: already exists (use --force to overwrite it)`);
  }
  const outDir = dirname(resolve(output));
  const dirStat = await stat(outDir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new CheckpointError(`${output}: directory ${outDir} does not exist`);
  if ((await stat(output).catch(() => null))?.isDirectory()) {
    throw new CheckpointError(`${output}: is a directory, expected a file path`);
  }

  const source = await loadCheckpointFile(input);
  const dtypes = [...sourceDtypes(source.stateDict).keys()];
  const metadata: Record<string, string> = {
    format: "pt",
    source_file: basename(input),
    source_format: source.format === "torch" ? "torch.save" : "safetensors",
    source_dtype: dtypes.join(","),
    converted_by: "glide-ts",
  };
  for (const key of ["config", "step", "sampling"]) {
    if (source.metadata[key] !== undefined) metadata[key] = source.metadata[key];
  }
  if (options.sampling) metadata.sampling = JSON.stringify(options.sampling);
  const dtype = options.dtype ?? "float32";
  const tensors = new Map<string, WritableTensor>();
  const write = (name: string, shape: number[], data: Float32Array) =>
    tensors.set(
      name,
      dtype === "float16" ? { dtype: "F16", shape, data: float32ToHalf(data) } : { dtype: "F32", shape, data },
    );
  let embeddingRows: ConvertSummary["embeddingRows"];
  for (const [name, t] of source.stateDict) {
    if (name !== TOKEN_EMBEDDING || options.embeddingInitSeed === undefined) {
      write(name, t.shape, t.data);
      continue;
    }
    const init = { seed: options.embeddingInitSeed, kind: "normal" as const, std: TOKEN_EMBEDDING_STD };
    const sparse = sparseRows(name, { shape: t.shape, data: roundToStored(t.data, dtype) }, dtype, init);
    write(name, [sparse.data.length / t.shape[1]!, t.shape[1]!], sparse.data);
    metadata[SPARSE_ROWS_METADATA] = JSON.stringify({ [name]: sparse.entry });
    embeddingRows = { stored: sparse.data.length / t.shape[1]!, total: t.shape[0]! };
  }
  if (options.embeddingInitSeed !== undefined && embeddingRows === undefined) {
    throw new CheckpointError(`${input}: has no ${TOKEN_EMBEDDING} to store sparsely`);
  }
  await writeSafetensors(output, tensors, metadata);
  return {
    input,
    output,
    tensors: source.stateDict.size,
    parameters: countParameters(source.stateDict),
    sourceDtypes: dtypes,
    dtype,
    metadata,
    embeddingRows,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
