// No import goes up: every relative import in src/ stays in its layer or reaches one its row of the
// layer table in docs/ARCHITECTURE.md allows. The table is the source; this test only reads it.
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
const SRC = join(ROOT, "src");

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

/** The layer of a path relative to src/ (the longest folder or file of the table that holds it). */
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

/** Relative module specifiers of a file: static imports and re-exports, `import type`, and `import()`. */
function relativeImports(source: string): string[] {
  const found = source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)["'](\.{1,2}\/[^"']+)["']/gm);
  return [...found].map((m) => m[1]!);
}

/** Every import that leaves its layer for one its row does not list: "from → to (file imports spec)". */
function upwardImports(layers: readonly Layer[], sources: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [from, source] of sources) {
    const fromLayer = layerOf(layers, from);
    if (!fromLayer) {
      problems.push(`${from} is in no layer of the table`);
      continue;
    }
    for (const spec of relativeImports(source)) {
      const to = posix.normalize(posix.join(posix.dirname(from), spec));
      if (to.startsWith("../")) continue; // outside src/ (package.json)
      const toLayer = layerOf(layers, to);
      if (!toLayer) problems.push(`${from} imports ${spec}, which is in no layer of the table`);
      else if (toLayer !== fromLayer && !fromLayer.mayImport.has(toLayer.name)) {
        problems.push(`${fromLayer.name} → ${toLayer.name} (${from} imports ${spec})`);
      }
    }
  }
  return problems;
}

/** src/'s sources by path relative to src/ ("glide/model.ts"). */
function srcSources(): Map<string, string> {
  return new Map(
    sourceFiles(SRC).map((file) => [relative(SRC, file).split("\\").join("/"), readFileSync(file, "utf8")]),
  );
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

test("the layer table names every layer it allows, and its rows make no cycle", () => {
  assert.ok(layers.length >= 10, `read ${layers.length} rows from docs/ARCHITECTURE.md's layer table`);
  const names = new Set(layers.map((l) => l.name));
  for (const layer of layers) {
    for (const allowed of layer.mayImport) assert.ok(names.has(allowed), `${layer.name} allows unknown '${allowed}'`);
  }
  assert.equal(cycleOf(layers), null);
});

test("no import in src/ goes up: each stays in its layer or reaches one its row allows", () => {
  assert.deepEqual(upwardImports(layers, srcSources()), []);
});

test("the check fails on imports that go up, and on files outside the table", () => {
  const sources = new Map([
    ["glide/model.ts", 'import type { Int8Plan } from "../int8/plan.ts";\nimport * as g from "../graph/index.ts";'],
    ["image/decode.ts", 'export { x } from "../platform/node.ts";'],
    ["io/load.ts", 'const m = await import("../pipelines/load-model.ts");'],
    ["newfolder/a.ts", ""],
  ]);
  assert.deepEqual(upwardImports(layers, sources), [
    "glide → int8 (glide/model.ts imports ../int8/plan.ts)",
    "image → platforms (image/decode.ts imports ../platform/node.ts)",
    "io → pipelines (io/load.ts imports ../pipelines/load-model.ts)",
    "newfolder/a.ts is in no layer of the table",
  ]);
});
