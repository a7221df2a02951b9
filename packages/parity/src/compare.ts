// Comparisons of computed values with the reference's, as OutputChecks.

import { type OutputCheck, ParityCaseError } from "./types.ts";

/** Largest |actual − expected| over all elements; a length mismatch is an error, not a large number. */
export function maxAbsCheck(
  output: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): OutputCheck {
  if (actual.length !== expected.length) {
    throw new ParityCaseError(`${output}: computed ${actual.length} values, the reference has ${expected.length}`);
  }
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    // NaN must not hide behind Math.max's comparison: it makes the whole output fail.
    if (!(d <= error)) error = Number.isNaN(d) ? Number.NaN : d;
    if (Number.isNaN(error)) break;
  }
  return { output, metric: "max-abs", error, tolerance };
}

/** Number of positions where the sequences differ (extra or missing elements count too); exact by default. */
export function countCheck<T>(
  output: string,
  actual: readonly T[],
  expected: readonly T[],
  tolerance = 0,
): OutputCheck {
  let error = Math.abs(actual.length - expected.length);
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) if (actual[i] !== expected[i]) error++;
  return { output, metric: "count", error, tolerance };
}

/** |actual − expected| of one exact number (a parameter count). */
export function exactCheck(output: string, actual: number, expected: number): OutputCheck {
  return { output, metric: "count", error: Math.abs(actual - expected), tolerance: 0 };
}

export function passes(check: OutputCheck): boolean {
  return check.error <= check.tolerance; // false for NaN
}
