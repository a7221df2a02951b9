// The parity tool's vocabulary: a case read from a fixture directory, the kind of check that runs
// it, and what one run of a case found (one error per output, each against its tolerance).

import type { GlideConfig, GlideModel, SessionOptions } from "glide-ts";

/** One entry of the manifest (its JSON object), or one case a kind found in its own file. */
export interface ParityCase {
  name: string;
  /** Which CaseKind runs it: "forward", "sample", "tokenizer", … */
  kind: string;
  entry: Readonly<Record<string, unknown>>;
}

/** `DIR/manifest.json`: the cases by name, in file order. */
export interface Manifest {
  cases: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * One compared output. `metric` "max-abs" is the largest absolute difference; "count" is the
 * number of differing values (exact checks: token ids, kept timesteps, parameter counts).
 */
export interface OutputCheck {
  output: string;
  metric: "max-abs" | "count";
  error: number;
  tolerance: number;
}

/** A model case of the manifest, loaded once and shared by every case that names it. */
export interface LoadedModel {
  name: string;
  config: GlideConfig;
  model: GlideModel;
}

/** What a kind may use while running a case. */
export interface ParityContext {
  /** The fixture directory; file names in the manifest are relative to it. */
  readonly dir: string;
  readonly manifest: Manifest;
  resolve(file: string): string;
  /** The model of the manifest's model case `name` (its `config` and `checkpoint`). */
  model(name: string): Promise<LoadedModel>;
  /** Options for every compiled graph (threads). */
  readonly session: SessionOptions;
}

/**
 * A kind of case: one module under ./kinds, registered in ./kinds/index.ts. `run` compares what
 * this project computes with the reference's values and returns every comparison; it throws for a
 * case it cannot run (missing file, malformed entry), which fails that case.
 */
export interface CaseKind {
  readonly kind: string;
  /** One line for `--help` and reports. */
  readonly description: string;
  /** Cases kept in the directory's own files rather than the manifest (e.g. tokenizer.json). */
  discover?(dir: string): Promise<ParityCase[]>;
  /**
   * Whether a manifest case without a `kind` field is this kind's, whatever its name says (e.g. a
   * model case whose `config` is a CLIP one). Consulted before the name and `config` rules.
   */
  claims?(name: string, entry: Readonly<Record<string, unknown>>): boolean;
  run(testCase: ParityCase, context: ParityContext): Promise<OutputCheck[]>;
  /** A short note printed with the case's result (e.g. a tokenizer case's caption). */
  describe?(testCase: ParityCase): string | undefined;
}

/**
 * - pass / fail: every check within / some check beyond its tolerance (NaN fails);
 * - error: the case could not be run (an exception); counts as a failure;
 * - unsupported: no kind runs this case's kind; counts as a failure;
 * - excluded: its kind was excluded by the caller; reported, not a failure.
 */
export type CaseStatus = "pass" | "fail" | "error" | "unsupported" | "excluded";

export interface CaseResult {
  name: string;
  kind: string;
  status: CaseStatus;
  checks: OutputCheck[];
  /** Why a case errored or was not run; a short note for others (e.g. the caption of a tokenizer case). */
  message?: string;
  seconds: number;
}

export interface ParityReport {
  dir: string;
  results: CaseResult[];
  /** True when no case failed, errored or was unsupported. */
  ok: boolean;
}

/** A manifest entry that lacks what its kind needs, or a file that does not hold what it should. */
export class ParityCaseError extends Error {
  override name = "ParityCaseError";
}
