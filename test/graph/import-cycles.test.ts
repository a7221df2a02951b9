// No module of src/ imports itself through others: in a cycle, one module's values may still be
// uninitialized when another uses them. Type-only imports are erased, so they do not count.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The relative modules a file imports or re-exports at run time. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf-8");
  const found: string[] = [];
  const pattern = /^\s*(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["'](\.[^"']+)["']/gm;
  for (const match of text.matchAll(pattern)) {
    if (!match[1]) found.push(resolve(dirname(file), match[2]!));
  }
  return found;
}

function findCycle(files: string[]): string[] | null {
  const edges = new Map(files.map((f) => [f, runtimeImports(f)]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === "done") return null;
    if (state.get(file) === "open") return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, "open");
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, "done");
    return null;
  };
  for (const file of files) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

test("no package's sources have an import cycle", () => {
  const packages = resolve("packages");
  const folders = readdirSync(packages).map((name) => join(packages, name, "src"));
  assert.ok(folders.length >= 5, `read ${folders.length} packages`);
  for (const root of folders) {
    const cycle = findCycle(sourceFiles(root));
    assert.equal(cycle?.map((f) => relative(root, f)).join(" → ") ?? null, null, root);
  }
});

test("the cycle finder follows imports and re-exports, and skips type-only imports", () => {
  const dir = mkdtempSync(join(tmpdir(), "glide-cycles-"));
  try {
    const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
    write("a.ts", 'export * from "./b.ts";\n');
    write("b.ts", 'import type { A } from "./a.ts";\nimport {\n  c,\n} from "./c.ts";\n');
    write("c.ts", "export const c = 1;\n");
    const files = ["a.ts", "b.ts", "c.ts"].map((f) => join(dir, f));
    assert.equal(findCycle(files), null, "a type-only import is no cycle");
    write("c.ts", 'import "./a.ts";\nexport const c = 1;\n');
    assert.deepEqual(
      findCycle(files)?.map((f) => relative(dir, f)),
      ["a.ts", "b.ts", "c.ts", "a.ts"],
      "a → b (multi-line import) → c (bare import) → a",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
