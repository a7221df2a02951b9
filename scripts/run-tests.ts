// Runs every test/**/*.test.ts file with node's test runner (Node 20 has no glob support in --test),
// with test/setup.ts (the Node platform) loaded first. One file: npm run test:file -- test/x.test.ts
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith(".test.ts")) found.push(path);
  }
  return found.sort();
}

const filter = process.argv.slice(2);
const files = findTests("test").filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error(`no test files match ${filter.join(" ")}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    "--conditions=glide-ts-source",
    "--import",
    "tsx",
    "--import",
    "./test/setup.ts",
    "--test",
    "--test-concurrency=2",
    ...files,
  ],
  {
    stdio: "inherit",
  },
);
process.exit(result.status ?? 1);
