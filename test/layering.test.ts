// No import goes up: every import in the packages' sources stays in its layer or reaches one its row
// of the layer table in docs/ARCHITECTURE.md allows. The table is the source; this test only reads it.
// Within a package imports are relative; across packages they name the package (`glide-ts`,
// `glide-ts/internals`, `@glide-ts/eval`…), which stands for the file its package.json exports under
// the `glide-ts-source` condition, and the importing package must declare that dependency.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { test } from "node:test";

interface Layer {
  name: string;
  paths: string[];
  mayImport: Set<string>;
}

const ROOT = join(import.meta.dirname, "..");
const PACKAGES = join(ROOT, "packages");
/** Scanned: each package's src/ and the pages of the app (web/). */
const SCANNED = ["src/", "web/"];

/** The rows of the table under "## Layers": `name` | `paths…` | holds | `allowed`, … or —. */
function parseLayerTable(markdown: string): Layer[] {
  const section = markdown.split(/^## Layers\s*$/m)[1]?.split(/^## /m)[0] ?? "";
  const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const layers: Layer[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length !== 6 || !cells[1]!.startsWith("`")) continue;
    const [name] = ticked(cells[1]!);
    layers.push({ name: name!, paths: ticked(cells[2]!), mayImport: new Set(ticked(cells[4]!)) });
  }
  return layers;
}

/** The layer of a path relative to packages/ (the longest folder or file of the table that holds it). */
function layerOf(layers: readonly Layer[], path: string): Layer | null {
  let best: { layer: Layer; length: number } | null = null;
  for (const layer of layers) {
    for (const p of layer.paths) {
      const holds = p.endsWith("/") ? path.startsWith(p) : path === p;
      if (holds && (best === null || p.length > best.length)) best = { layer, length: p.length };
    }
  }
  return best?.layer ?? null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** A workspace package: its folder, its dependencies, and the source file behind each export. */
interface WorkspacePackage {
  folder: string;
  dependencies: Set<string>;
  /** "glide-ts/internals" → "glide-ts/src/internals.ts"; browser pages get `browser` entries. */
  exports: Map<string, { node: string; browser: string }>;
}

function sourceOf(target: unknown, condition: "node" | "browser"): string | null {
  if (typeof target !== "object" || target === null) return null;
  const source = (target as Record<string, unknown>)["glide-ts-source"];
  if (typeof source === "string") return source;
  if (typeof source === "object" && source !== null) {
    const conditional = source as Record<string, string>;
    return conditional[condition] ?? conditional.default ?? null;
  }
  return null;
}

function workspacePackages(): Map<string, WorkspacePackage> {
  const packages = new Map<string, WorkspacePackage>();
  for (const folder of readdirSync(PACKAGES)) {
    const json = JSON.parse(readFileSync(join(PACKAGES, folder, "package.json"), "utf8"));
    const exports = new Map<string, { node: string; browser: string }>();
    for (const [subpath, target] of Object.entries<unknown>(json.exports ?? {})) {
      const node = sourceOf(target, "node");
      const browser = sourceOf(target, "browser");
      if (!node || !browser) continue;
      const specifier = subpath === "." ? json.name : `${json.name}/${subpath.slice(2)}`;
      exports.set(specifier, { node: posix.join(folder, node), browser: posix.join(folder, browser) });
    }
    const dependencies = new Set([
      ...Object.keys(json.dependencies ?? {}),
      ...Object.keys(json.peerDependencies ?? {}),
    ]);
    packages.set(json.name, { folder, dependencies, exports });
  }
  return packages;
}

/** Module specifiers of a file: static imports and re-exports, `import type`, and `import()`. */
function importsOf(source: string): string[] {
  const found = source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)["']([^"']+)["']/gm);
  return [...found].map((m) => m[1]!).filter((spec) => spec.startsWith(".") || isWorkspaceSpecifier(spec));
}

function isWorkspaceSpecifier(spec: string): boolean {
  return spec === "glide-ts" || spec.startsWith("glide-ts/") || spec.startsWith("@glide-ts/");
}

/** Every import that goes up or around the rules: "from → to (file imports spec)", or what is wrong. */
function upwardImports(
  layers: readonly Layer[],
  sources: ReadonlyMap<string, string>,
  packages: ReadonlyMap<string, WorkspacePackage>,
): string[] {
  const problems: string[] = [];
  const packageByFolder = new Map([...packages.values()].map((p) => [p.folder, p]));
  for (const [from, source] of sources) {
    const fromLayer = layerOf(layers, from);
    if (!fromLayer) {
      problems.push(`${from} is in no layer of the table`);
      continue;
    }
    const folder = from.split("/")[0]!;
    const page = from.startsWith("app/web/");
    for (const spec of importsOf(source)) {
      let to: string;
      if (spec.startsWith(".")) {
        to = posix.normalize(posix.join(posix.dirname(from), spec));
        if (to.split("/")[0] !== folder) {
          problems.push(`${from} imports ${spec}: another package by a relative path (name the package instead)`);
          continue;
        }
        if (!SCANNED.some((dir) => to.startsWith(`${folder}/${dir}`))) continue; // the package's own package.json
      } else {
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        const target = packages.get(name)?.exports.get(spec);
        if (!target) {
          problems.push(`${from} imports ${spec}, which no workspace package exports from its sources`);
          continue;
        }
        if (!packageByFolder.get(folder)?.dependencies.has(name)) {
          problems.push(`${from} imports ${spec}, but packages/${folder}/package.json does not depend on ${name}`);
        }
        to = page ? target.browser : target.node;
      }
      const toLayer = layerOf(layers, to);
      if (!toLayer) problems.push(`${from} imports ${spec}, which is in no layer of the table`);
      else if (toLayer !== fromLayer && !fromLayer.mayImport.has(toLayer.name)) {
        problems.push(`${fromLayer.name} → ${toLayer.name} (${from} imports ${spec})`);
      }
    }
  }
  return problems;
}

/** The scanned sources by path relative to packages/ ("glide-ts/src/glide/model.ts"). */
function packageSources(): Map<string, string> {
  const files = readdirSync(PACKAGES).flatMap((folder) =>
    SCANNED.flatMap((dir) => {
      try {
        return sourceFiles(join(PACKAGES, folder, dir));
      } catch {
        return []; // a package without that folder
      }
    }),
  );
  return new Map(files.map((file) => [relative(PACKAGES, file).split("\\").join("/"), readFileSync(file, "utf8")]));
}

/** A cycle among the rows' allowed imports, or null: with one, "up" would mean nothing. */
function cycleOf(layers: readonly Layer[]): string[] | null {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const state = new Map<string, "open" | "done">();
  const visit = (name: string, path: string[]): string[] | null => {
    if (state.get(name) === "open") return [...path, name];
    if (state.get(name) === "done") return null;
    state.set(name, "open");
    for (const next of byName.get(name)?.mayImport ?? []) {
      const cycle = visit(next, [...path, name]);
      if (cycle) return cycle;
    }
    state.set(name, "done");
    return null;
  };
  for (const layer of layers) {
    const cycle = visit(layer.name, []);
    if (cycle) return cycle;
  }
  return null;
}

const layers = parseLayerTable(readFileSync(join(ROOT, "docs", "ARCHITECTURE.md"), "utf8"));
const packages = workspacePackages();

test("the layer table names every layer it allows, and its rows make no cycle", () => {
  assert.ok(layers.length >= 10, `read ${layers.length} rows from docs/ARCHITECTURE.md's layer table`);
  const names = new Set(layers.map((l) => l.name));
  for (const layer of layers) {
    for (const allowed of layer.mayImport) assert.ok(names.has(allowed), `${layer.name} allows unknown '${allowed}'`);
  }
  assert.equal(cycleOf(layers), null);
});

test("no import in the packages goes up: each stays in its layer or reaches one its row allows", () => {
  const sources = packageSources();
  assert.ok(sources.size > 300, `read ${sources.size} source files`);
  assert.deepEqual(upwardImports(layers, sources, packages), []);
});

test("the library depends on no server, corpus or tool package", () => {
  const library = packages.get("glide-ts")!;
  for (const name of ["fastify", "bullmq", "ioredis", "commander", "openmoji", "@resvg/resvg-js", "tsx"]) {
    assert.ok(!library.dependencies.has(name), `glide-ts depends on ${name}`);
  }
  assert.deepEqual(
    [...library.dependencies].filter((d) => d.startsWith("@glide-ts/")),
    [],
  );
});

test("the check fails on imports that go up, around a package, or past its dependencies", () => {
  const sources = new Map([
    [
      "glide-ts/src/glide/model.ts",
      'import type { Int8Plan } from "../int8/plan.ts";\nimport * as g from "../graph/index.ts";',
    ],
    ["glide-ts/src/image/decode.ts", 'export { x } from "../platform/node.ts";'],
    ["glide-ts/src/io/load.ts", 'const m = await import("../pipelines/load-model.ts");'],
    ["glide-ts/src/newfolder/a.ts", ""],
    ["glide-ts/src/train/x.ts", 'import { runEval } from "@glide-ts/eval";'],
    ["eval/src/x.ts", 'import { GlideModel } from "../../glide-ts/src/glide/model.ts";'],
    ["eval/src/y.ts", 'import { startServer } from "@glide-ts/app";'],
    ["app/web/ui/x.ts", 'import { train } from "glide-ts/internals";'],
  ]);
  assert.deepEqual(upwardImports(layers, sources, packages), [
    "glide → int8 (glide-ts/src/glide/model.ts imports ../int8/plan.ts)",
    "image → platforms (glide-ts/src/image/decode.ts imports ../platform/node.ts)",
    "io → pipelines (glide-ts/src/io/load.ts imports ../pipelines/load-model.ts)",
    "glide-ts/src/newfolder/a.ts is in no layer of the table",
    "glide-ts/src/train/x.ts imports @glide-ts/eval, but packages/glide-ts/package.json does not depend on @glide-ts/eval",
    "train → eval (glide-ts/src/train/x.ts imports @glide-ts/eval)",
    "eval/src/x.ts imports ../../glide-ts/src/glide/model.ts: another package by a relative path (name the package instead)",
    "eval/src/y.ts imports @glide-ts/app, but packages/eval/package.json does not depend on @glide-ts/app",
    "eval → app (eval/src/y.ts imports @glide-ts/app)",
    "page → internals (app/web/ui/x.ts imports glide-ts/internals)",
  ]);
});
