// Compares a loaded state_dict with the keys and shapes a model expects, reporting every
// difference in one error rather than stopping at the first.

import { formatShape, numel } from "../util/shape.ts";
import { CheckpointError } from "./errors.ts";

export interface MisshapedKey {
  key: string;
  expected: number[];
  actual: number[];
}

/** A state_dict that does not fit a model; the lists are also available as fields. */
export class StateDictMismatchError extends CheckpointError {
  override name = "StateDictMismatchError";
  constructor(
    message: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly misshaped: MisshapedKey[],
  ) {
    super(message);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Keys listed per kind of mismatch in the message (the error object holds them all). */
const MAX_LISTED = 12;

/**
 * Throws a `StateDictMismatchError` listing the missing keys (with the expected shape), all
 * unexpected keys (with their shape) and all keys whose shape differs. `label` names the
 * checkpoint (e.g. its path) in the message.
 */
export function checkStateDict(
  expected: ReadonlyMap<string, readonly number[]>,
  actual: ReadonlyMap<string, { shape: readonly number[] }>,
  label: string,
): void {
  const missing: string[] = [];
  const misshaped: MisshapedKey[] = [];
  for (const [key, shape] of expected) {
    const t = actual.get(key);
    if (!t) missing.push(key);
    else if (!sameShape(shape, t.shape)) misshaped.push({ key, expected: [...shape], actual: [...t.shape] });
  }
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
  if (missing.length === 0 && unexpected.length === 0 && misshaped.length === 0) return;

  const lines = [`${label}: the state_dict does not match the model (${expected.size} parameters expected)`];
  // Each list is cut after a few keys: a checkpoint of another model would list thousands.
  const listed = <T>(items: readonly T[], line: (item: T) => string) => {
    for (const item of items.slice(0, MAX_LISTED)) lines.push(`    ${line(item)}`);
    if (items.length > MAX_LISTED) lines.push(`    … and ${items.length - MAX_LISTED} more`);
  };
  if (missing.length) {
    lines.push(`  ${missing.length} missing key(s):`);
    listed(missing, (k) => `${k} ${formatShape(expected.get(k)!)}`);
  }
  if (unexpected.length) {
    lines.push(`  ${unexpected.length} unexpected key(s):`);
    listed(unexpected, (k) => `${k} ${formatShape(actual.get(k)!.shape)}`);
  }
  if (misshaped.length) {
    lines.push(`  ${misshaped.length} key(s) with the wrong shape:`);
    listed(misshaped, (m) => `${m.key}: expected ${formatShape(m.expected)}, got ${formatShape(m.actual)}`);
  }
  throw new StateDictMismatchError(lines.join("\n"), missing, unexpected, misshaped);
}

/** Total number of elements over all tensors (the model's parameter count for a state_dict). */
export function countParameters(sd: ReadonlyMap<string, { shape: readonly number[] }>): number {
  let n = 0;
  for (const t of sd.values()) n += numel(t.shape);
  return n;
}

/**
 * Throws a CheckpointError naming the first tensor that holds a NaN or an infinity: such a weight
 * makes every picture black (or NaN) while the run "succeeds". One pass over the values.
 */
export function checkFinite(sd: ReadonlyMap<string, { data: Float32Array }>, label: string): void {
  for (const [key, tensor] of sd) {
    const { data } = tensor;
    for (let i = 0; i < data.length; i++) {
      // NaN fails every comparison; ±Infinity fails the bound.
      if (!(Math.abs(data[i]!) <= Number.MAX_VALUE)) {
        throw new CheckpointError(
          `${label}: the weight ${key} holds ${data[i]} at index ${i}; the file is corrupt (or its training diverged) and cannot be used`,
        );
      }
    }
  }
}
