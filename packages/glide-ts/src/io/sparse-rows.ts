// Weight files that store only the rows of a table that training changed. Half of a small GLIDE's
// parameters are the 50,257-row GPT-2 token embedding, and a corpus uses a few thousand tokens:
// the other rows never receive a gradient and keep their initial values, which the seeded
// initializer (util/seeded-stream.ts) makes again from the init seed. Such a file holds the table
// as [stored rows, width] under its usual name, and its metadata says, under `sparse_rows`:
//
//   {"token_embedding.weight": {"shape": [50257, 128], "rows": "0-12,220,...",
//                               "init": {"seed": 1, "kind": "normal", "std": 1}}}
//
// `rows`: the stored rows in file order, as ascending ranges. On reading, every other row is the
// initializer's value for that name and seed, rounded to the tensor's stored dtype, which is
// exactly what a full file would hold: the writer drops a row only when it equals that value bit
// for bit in the stored dtype.
import type { HostTensor, StateDict } from "../platform/data-types.ts";
import { seededNormal } from "../util/seeded-stream.ts";
import { CheckpointError } from "./errors.ts";
import { float32ToHalf, halfToFloat32 } from "./half.ts";

/** The metadata key of a file's sparse tables. */
export const SPARSE_ROWS_METADATA = "sparse_rows";

export interface SparseRowsEntry {
  /** The full table's shape [rows, width]. */
  shape: [number, number];
  /** The stored rows, ascending, as ranges ("0-12,220"). */
  rows: string;
  /** How the rows not stored were initialized (the seeded initializer's normal draw). */
  init: { seed: number; kind: "normal"; std: number };
}

/** Ascending row indices as ranges: [0, 1, 2, 5] → "0-2,5". */
export function encodeRows(rows: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; ) {
    let j = i;
    while (j + 1 < rows.length && rows[j + 1] === rows[j]! + 1) j++;
    parts.push(i === j ? String(rows[i]) : `${rows[i]}-${rows[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** The inverse of encodeRows, checked: ascending, no repeats, each below `limit`. */
export function decodeRows(text: string, limit: number, label: string): number[] {
  const rows: number[] = [];
  if (text === "") return rows;
  for (const part of text.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    const first = match ? Number(match[1]) : Number.NaN;
    const last = match?.[2] !== undefined ? Number(match[2]) : first;
    const previous = rows.length > 0 ? rows[rows.length - 1]! : -1;
    if (!match || last < first || first <= previous || last >= limit) {
      throw new CheckpointError(
        `${label}: sparse_rows has a bad row range '${part}' (rows must ascend below ${limit})`,
      );
    }
    for (let r = first; r <= last; r++) rows.push(r);
  }
  return rows;
}

/** Values as the stored dtype holds them (a float16 file's rows are float16-rounded). */
export function roundToStored(values: Float32Array, dtype: HostTensor["sourceDtype"]): Float32Array {
  if (dtype === "float32") return values;
  if (dtype !== "float16") throw new RangeError(`sparse rows are stored as float32 or float16, not ${dtype}`);
  const out = new Float32Array(values.length);
  halfToFloat32(float32ToHalf(values), out);
  return out;
}

function initialValues(name: string, entry: SparseRowsEntry, dtype: HostTensor["sourceDtype"]): Float32Array {
  const [rows, width] = entry.shape;
  return roundToStored(seededNormal(entry.init.seed, name, rows * width, entry.init.std), dtype);
}

/**
 * The rows of `data` [rows, width] (already rounded to `dtype`) that differ from their initial
 * values under `init`, and those rows' values: what a sparse file stores.
 */
export function sparseRows(
  name: string,
  tensor: { shape: readonly number[]; data: Float32Array },
  dtype: "float32" | "float16",
  init: SparseRowsEntry["init"],
): { entry: SparseRowsEntry; data: Float32Array } {
  if (tensor.shape.length !== 2) throw new RangeError(`${name}: sparse rows need a 2-D table, got [${tensor.shape}]`);
  const [rows, width] = tensor.shape as [number, number];
  const entry: SparseRowsEntry = { shape: [rows, width], rows: "", init };
  const initial = initialValues(name, entry, dtype);
  const stored: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = r * width; c < (r + 1) * width; c++) {
      if (!Object.is(tensor.data[c], initial[c])) {
        stored.push(r);
        break;
      }
    }
  }
  const data = new Float32Array(stored.length * width);
  for (const [i, r] of stored.entries()) data.set(tensor.data.subarray(r * width, (r + 1) * width), i * width);
  entry.rows = encodeRows(stored);
  return { entry, data };
}

function parseEntries(text: string, label: string): Record<string, SparseRowsEntry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CheckpointError(`${label}: its sparse_rows metadata is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointError(`${label}: its sparse_rows metadata must be an object of tables`);
  }
  for (const [name, value] of Object.entries(parsed)) {
    const e = value as Partial<SparseRowsEntry> | null;
    const ok =
      e !== null &&
      Array.isArray(e.shape) &&
      e.shape.length === 2 &&
      e.shape.every((d) => Number.isInteger(d) && d > 0) &&
      typeof e.rows === "string" &&
      e.init?.kind === "normal" &&
      Number.isInteger(e.init.seed) &&
      e.init.seed >= 0 &&
      Number.isFinite(e.init.std);
    if (!ok)
      throw new CheckpointError(
        `${label}: sparse_rows entry '${name}' needs shape [rows, width], rows and a normal init`,
      );
  }
  return parsed as Record<string, SparseRowsEntry>;
}

/**
 * Makes every sparse table of `stateDict` whole again (in place), as `metadata.sparse_rows`
 * describes; a file without that key is left as it is.
 */
export function restoreSparseRows(stateDict: StateDict, metadata: Record<string, string>, label: string): void {
  const text = metadata[SPARSE_ROWS_METADATA];
  if (text === undefined) return;
  for (const [name, entry] of Object.entries(parseEntries(text, label))) {
    const stored = stateDict.get(name);
    if (!stored) throw new CheckpointError(`${label}: sparse_rows names '${name}', which the file does not hold`);
    const [rows, width] = entry.shape;
    const indices = decodeRows(entry.rows, rows, label);
    if (stored.shape.length !== 2 || stored.shape[0] !== indices.length || stored.shape[1] !== width) {
      throw new CheckpointError(
        `${label}: '${name}' is [${stored.shape}], but sparse_rows lists ${indices.length} rows of width ${width}`,
      );
    }
    if (stored.sourceDtype !== "float32" && stored.sourceDtype !== "float16") {
      throw new CheckpointError(
        `${label}: sparse table '${name}' is ${stored.sourceDtype}; float32 or float16 expected`,
      );
    }
    const full = initialValues(name, entry, stored.sourceDtype);
    for (const [i, r] of indices.entries()) full.set(stored.data.subarray(i * width, (i + 1) * width), r * width);
    stateDict.set(name, { shape: [rows, width], data: full, sourceDtype: stored.sourceDtype });
  }
}

/** Each sparse table of a file's metadata: how many of its rows are stored (for `glide info`). */
export function sparseRowsSummary(
  metadata: Record<string, string>,
  label: string,
): { name: string; stored: number; total: number; seed: number }[] {
  const text = metadata[SPARSE_ROWS_METADATA];
  if (text === undefined) return [];
  return Object.entries(parseEntries(text, label)).map(([name, e]) => ({
    name,
    stored: decodeRows(e.rows, e.shape[0], label).length,
    total: e.shape[0],
    seed: e.init.seed,
  }));
}
