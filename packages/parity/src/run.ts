// Runs every case of a parity directory: the kinds' own files (tokenizer.json, schedules.json)
// and every manifest case, each by the kind registered for it. A case of a kind nothing runs fails
// the run unless that kind is excluded explicitly, so nothing passes silently.

import { performance } from "node:perf_hooks";
import type { SessionOptions } from "glide-ts";
import { GlideError } from "glide-ts";
import { passes } from "./compare.ts";
import { createContext } from "./context.ts";
import { CASE_KINDS } from "./kinds/index.ts";
import { checkManifest, manifestCases, readManifest } from "./manifest.ts";
import type { CaseKind, CaseResult, Manifest, ParityCase, ParityContext, ParityReport } from "./types.ts";

export interface ParityOptions {
  /** The fixture directory (files of the manifest are relative to it). */
  dir: string;
  /** Use this manifest instead of `dir/manifest.json` (e.g. one case pointed at other weights). */
  manifest?: Manifest;
  /** Kinds not to run: their cases are reported as excluded and do not fail the run. */
  exclude?: readonly string[];
  /** Run only the cases with these names (each must exist). */
  only?: readonly string[];
  /** The kinds to run with (default: all registered kinds). */
  kinds?: readonly CaseKind[];
  /** Options for every compiled graph; default one thread (reproducible timings and sums). */
  session?: SessionOptions;
  /** Called as each case finishes (the CLI prints lines as they come). */
  onResult?: (result: CaseResult) => void;
}

/** A mistake in how the tool was called (unknown kind to exclude, unknown case name). */
export class ParityUsageError extends GlideError {
  override name = "ParityUsageError";
}

export async function runParity(options: ParityOptions): Promise<ParityReport> {
  const kinds = options.kinds ?? CASE_KINDS;
  const byKind = new Map(kinds.map((k) => [k.kind, k]));
  const manifest = options.manifest
    ? checkManifest(options.manifest, "the given manifest")
    : await readManifest(options.dir);

  let cases: ParityCase[] = [];
  for (const kind of kinds) if (kind.discover) cases.push(...(await kind.discover(options.dir)));
  cases.push(...manifestCases(manifest, kinds));

  const exclude = new Set(options.exclude ?? []);
  for (const kind of exclude) {
    if (!byKind.has(kind) && !cases.some((c) => c.kind === kind)) {
      throw new ParityUsageError(
        `cannot exclude '${kind}': no case has that kind (kinds: ${[...new Set([...byKind.keys(), ...cases.map((c) => c.kind)])].join(", ")})`,
      );
    }
  }
  if (options.only) {
    const names = new Set(cases.map((c) => c.name));
    const unknown = options.only.filter((n) => !names.has(n));
    if (unknown.length > 0) throw new ParityUsageError(`no case named ${unknown.map((n) => `'${n}'`).join(", ")}`);
    const only = new Set(options.only);
    cases = cases.filter((c) => only.has(c.name));
  }

  const context = createContext(options.dir, manifest, options.session ?? { threads: 1 });
  const results: CaseResult[] = [];
  for (const c of cases) {
    const result = await runCase(c, byKind.get(c.kind), exclude.has(c.kind), context);
    results.push(result);
    options.onResult?.(result);
  }
  const failed = (r: CaseResult) => r.status !== "pass" && r.status !== "excluded";
  return { dir: options.dir, results, ok: !results.some(failed) };
}

async function runCase(
  c: ParityCase,
  kind: CaseKind | undefined,
  excluded: boolean,
  context: ParityContext,
): Promise<CaseResult> {
  const base = { name: c.name, kind: c.kind, checks: [], seconds: 0 };
  if (excluded) return { ...base, status: "excluded", message: `kind '${c.kind}' excluded` };
  if (!kind) {
    return {
      ...base,
      status: "unsupported",
      message: `no runner for kind '${c.kind}' (exclude it explicitly to skip: --exclude ${c.kind})`,
    };
  }
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  try {
    const checks = await kind.run(c, context);
    if (checks.length === 0)
      return { ...base, status: "error", message: "the case compared nothing", seconds: seconds() };
    const status = checks.every(passes) ? "pass" : "fail";
    return { ...base, status, checks, message: kind.describe?.(c), seconds: seconds() };
  } catch (e) {
    return { ...base, status: "error", message: e instanceof Error ? e.message : String(e), seconds: seconds() };
  }
}
