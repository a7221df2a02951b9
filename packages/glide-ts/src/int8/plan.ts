// What an int8 graph is built from: the calibrated activation ranges of each conv, and the layers
// that measurement kept in fp32.
import type { Range } from "./activation.ts";

export interface ConvRanges {
  input: Range;
  output: Range;
}

export interface Int8Plan {
  /** Calibrated ranges by conv site; a site without ranges stays fp32. */
  ranges: ReadonlyMap<string, ConvRanges>;
  /** Sites whose error measured too large: they stay fp32. */
  keepFp32: ReadonlySet<string>;
}

/** The precisions a network can run in. */
export const PRECISIONS = ["fp32", "int8"] as const;
export type Precision = (typeof PRECISIONS)[number];
