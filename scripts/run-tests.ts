// Runs every test/**/*.test.ts file with node's test runner (Node 20 has no glob support in --test),
// with test/setup.ts (the Node platform) loaded first. One file: npm run test:file -- test/x.test.ts
//
// The runner orders its files by name whatever order they are given in, so the one file that takes
// minutes (test/train/learns-captions.test.ts, a quarter of the suite's work) ran alone at the end,
// for its last ~5 minutes. It now runs in a process of its own from the start, beside the runner
// that takes the other files two at a time; its report is printed when it ends.
import { spawn } from "node:child_process";
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
const SEPARATE = ["test/train/learns-captions.test.ts"];

/** Runs node's test runner on `testFiles`; resolves with its exit status and, if captured, its output. */
function runTests(testFiles: string[], capture: boolean): Promise<{ status: number; output: string }> {
  const args = ["--conditions=glide-ts-source", "--import", "tsx", "--import", "./test/setup.ts"];
  const child = spawn(process.execPath, [...args, "--test", "--test-concurrency=2", ...testFiles], {
    stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit",
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => {
    child.on("close", (code) => resolve({ status: code ?? 1, output }));
  });
}

const separate = files.filter((f) => SEPARATE.includes(f));
const rest = files.filter((f) => !SEPARATE.includes(f));
const [main, aside] = await Promise.all([
  rest.length > 0 ? runTests(rest, false) : { status: 0, output: "" },
  separate.length > 0 ? runTests(separate, rest.length > 0) : { status: 0, output: "" },
]);
if (aside.output) process.stdout.write(`\n# ${separate.join(", ")} (run beside the others)\n${aside.output}`);
process.exit(main.status || aside.status);
