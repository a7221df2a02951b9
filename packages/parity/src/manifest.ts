// Reading `DIR/manifest.json`, deciding each case's kind, and typed access to a case's fields.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type CaseKind, type Manifest, type ParityCase, ParityCaseError } from "./types.ts";

/** The manifest of `dir`, checked to be `{cases: {name: {...}}}`. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, "manifest.json");
  let text: string;
  try {
    text = await readFile(path, "utf-8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParityCaseError(
      code === "ENOENT" ? `${path}: no such file (a parity directory needs a manifest.json)` : `${path}: ${e}`,
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new ParityCaseError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return checkManifest(manifest, path);
}

export function checkManifest(manifest: unknown, label = "manifest"): Manifest {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(manifest) || !isObject(manifest.cases)) {
    throw new ParityCaseError(`${label}: expected an object with a 'cases' object`);
  }
  for (const [name, entry] of Object.entries(manifest.cases)) {
    if (!isObject(entry)) throw new ParityCaseError(`${label}: case '${name}' is not an object`);
  }
  return manifest as Manifest;
}

/**
 * A case's kind: its `kind` field when it has one; else the first of `kinds` that claims it; else
 * the part of its name before the first "." ("sample.ddpm_cfg" → "sample", "loss.text2im" →
 * "loss"); else "forward" for a model case (one with a `config`). Anything else is of kind
 * "unknown", which no kind runs.
 */
export function kindOf(
  name: string,
  entry: Readonly<Record<string, unknown>>,
  kinds: readonly Pick<CaseKind, "kind" | "claims">[] = [],
): string {
  if (typeof entry.kind === "string" && entry.kind !== "") return entry.kind;
  const claimed = kinds.find((k) => k.claims?.(name, entry));
  if (claimed) return claimed.kind;
  const dot = name.indexOf(".");
  if (dot > 0) return name.slice(0, dot);
  if ("config" in entry) return "forward";
  return "unknown";
}

export function manifestCases(
  manifest: Manifest,
  kinds: readonly Pick<CaseKind, "kind" | "claims">[] = [],
): ParityCase[] {
  return Object.entries(manifest.cases).map(([name, entry]) => ({ name, kind: kindOf(name, entry, kinds), entry }));
}

function field(c: ParityCase, key: string, type: string, optional: boolean): unknown {
  const value = c.entry[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== type) {
    throw new ParityCaseError(`case '${c.name}': field '${key}' must be a ${type}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function stringField(c: ParityCase, key: string): string {
  return field(c, key, "string", false) as string;
}

export function optionalString(c: ParityCase, key: string): string | undefined {
  return field(c, key, "string", true) as string | undefined;
}

export function numberField(c: ParityCase, key: string): number {
  return field(c, key, "number", false) as number;
}

export function optionalNumber(c: ParityCase, key: string): number | undefined {
  return field(c, key, "number", true) as number | undefined;
}

export function optionalBoolean(c: ParityCase, key: string): boolean | undefined {
  return field(c, key, "boolean", true) as boolean | undefined;
}

/** The case's own `tolerance` (a manifest may tighten or loosen one case), else the kind's default. */
export function toleranceOf(c: ParityCase, fallback: number): number {
  const t = optionalNumber(c, "tolerance");
  if (t !== undefined && !(t >= 0)) throw new ParityCaseError(`case '${c.name}': tolerance must be >= 0, got ${t}`);
  return t ?? fallback;
}
