// The parity fixtures: the original implementation's outputs, kept beside the repository in
// ../shared. One place for their folder and their manifest.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type GlideConfig, resolveConfig } from "../packages/glide-ts/src/glide/config.ts";

export const FIXTURES = resolve(process.cwd(), "../shared/fixtures/glide-parity");

export const fixturePath = (name: string): string => join(FIXTURES, name);

let parsed: unknown = null;
/** manifest.json, parsed once; `T` is the part of its shape the caller reads. */
export function fixtureManifest<T = { cases: Record<string, { config?: Record<string, unknown> }> }>(): T {
  parsed ??= JSON.parse(readFileSync(fixturePath("manifest.json"), "utf-8"));
  return parsed as T;
}

/** A network case's configuration (text2im, inpaint, superres, superres_inpaint: 16×16, 32 channels). */
export function fixtureConfig(name = "text2im"): GlideConfig {
  const config = fixtureManifest().cases[name]?.config;
  if (!config) throw new Error(`the fixture manifest has no configuration for '${name}'`);
  return resolveConfig(config);
}
