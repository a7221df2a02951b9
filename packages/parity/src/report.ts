// The parity tool's printed report: one line per case, and a summary.

import { passes } from "./compare.ts";
import type { CaseResult, OutputCheck, ParityReport } from "./types.ts";

const STATUS_LABEL = { pass: "PASS", fail: "FAIL", error: "FAIL", unsupported: "FAIL", excluded: "SKIP" } as const;

/** Errors and tolerances with two significant digits: 3.05e-6 → "3.0e-6", 1e-4 → "1e-4". */
function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  return x.toExponential(1).replace(".0e", "e");
}

function formatValue(check: OutputCheck): string {
  return check.metric === "count" ? String(check.error) : formatNumber(check.error);
}

/** "max abs err, tol 1e-4"; exact comparisons (counts of differences, tolerance 0) are "exact". */
function formatTolerance(check: OutputCheck): string {
  if (check.metric === "count") return check.tolerance === 0 ? "exact" : `differences, tol ${check.tolerance}`;
  return `max abs err, tol ${formatNumber(check.tolerance)}`;
}

/** Checks of one line listed one by one; more are summarized by the worst few. */
const MAX_LISTED = 12;
const WORST_SHOWN = 4;

/** How close a check is to failing: error / tolerance (Infinity for NaN or a nonzero error at tolerance 0). */
function closeness(check: OutputCheck): number {
  if (Number.isNaN(check.error)) return Number.POSITIVE_INFINITY;
  if (check.tolerance === 0) return check.error === 0 ? 0 : Number.POSITIVE_INFINITY;
  return check.error / check.tolerance;
}

function listChecks(checks: readonly OutputCheck[]): string {
  const groups = new Map<string, OutputCheck[]>();
  for (const check of checks) {
    const key = formatTolerance(check);
    groups.set(key, [...(groups.get(key) ?? []), check]);
  }
  return [...groups]
    .map(([key, group]) => `${group.map((c) => `${c.output}=${formatValue(c)}`).join(" ")} (${key})`)
    .join("  ");
}

/**
 * "out=3.0e-6 xf_proj=4.8e-7 (max abs err, tol 1e-4)  params=0 (exact)"; a case with many outputs
 * (a gradient per parameter) gets their number, how many fail, and the ones closest to failing.
 */
export function formatChecks(checks: readonly OutputCheck[]): string {
  if (checks.length <= MAX_LISTED) return listChecks(checks);
  const failing = checks.filter((c) => !passes(c)).length;
  const worst = [...checks].sort((a, b) => closeness(b) - closeness(a)).slice(0, WORST_SHOWN);
  const verdict = failing === 0 ? "all within tolerance" : `${failing} beyond tolerance`;
  return `${checks.length} outputs, ${verdict}; closest to failing: ${listChecks(worst)}`;
}

/** One line: status, name, kind, the errors with their tolerances (or why it did not run), time. */
export function formatResult(r: CaseResult, nameWidth = 32): string {
  const head = `${STATUS_LABEL[r.status]}  ${r.name.padEnd(nameWidth)} ${r.kind.padEnd(14)}`;
  const parts = [r.checks.length > 0 ? formatChecks(r.checks) : ""];
  if (r.status === "error") parts.push(`error: ${r.message}`);
  else if (r.status === "unsupported" || r.status === "excluded") parts.push(r.message ?? "");
  else if (r.message) parts.push(r.message);
  if (r.seconds >= 0.05) parts.push(`${r.seconds.toFixed(1)}s`);
  return `${head} ${parts.filter((p) => p !== "").join("  ")}`.trimEnd();
}

export function formatSummary(report: ParityReport): string {
  const count = (...statuses: CaseResult["status"][]) => report.results.filter((r) => statuses.includes(r.status));
  const excluded = count("excluded");
  const excludedKinds = [...new Set(excluded.map((r) => r.kind))];
  const failed = count("fail", "error", "unsupported");
  return (
    `${report.results.length} cases: ${count("pass").length} passed, ${failed.length} failed` +
    (excluded.length > 0 ? `, ${excluded.length} excluded (${excludedKinds.join(", ")})` : "") +
    (report.ok ? "" : ` — FAILED: ${failed.map((r) => r.name).join(", ")}`)
  );
}
