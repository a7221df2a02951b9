// Locates installed npm packages' files (they are dependencies, but may be missing in a broken install).
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { SourceUnavailable } from "./types.ts";

const require = createRequire(import.meta.url);

/** The folder of an installed npm package, found through one of its exported files. */
export function packageDir(name: string, exportedFile = "package.json"): string {
  try {
    return dirname(require.resolve(`${name}/${exportedFile}`));
  } catch {
    throw new SourceUnavailable(`the npm package ${name} is not installed (run npm ci)`);
  }
}
