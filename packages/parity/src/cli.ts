// `npm run parity -- DIR [--exclude KIND,...] [--only NAME,...] [--threads N]`: runs every case of
// a parity directory, prints one line per case and a summary, and exits 1 if any case failed.

import "glide-ts";
import { parseArgs } from "node:util";
import { CASE_KINDS } from "./kinds/index.ts";
import { formatResult, formatSummary } from "./report.ts";
import { runParity } from "./run.ts";

const USAGE = `usage: npm run parity -- DIR [--exclude KIND,...] [--only NAME,...] [--threads N]

Runs every case of DIR (DIR/manifest.json, and DIR/tokenizer.json, DIR/schedules.json if present)
against this implementation; one line per case, exit status 1 if any case fails. A case of a kind
this tool does not run fails unless its kind is excluded with --exclude.

kinds:
${CASE_KINDS.map((k) => `  ${k.kind.padEnd(14)} ${k.description}`).join("\n")}`;

const list = (values: string[] | undefined) => values?.flatMap((v) => v.split(",")).filter((v) => v !== "");

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      exclude: { type: "string", multiple: true },
      only: { type: "string", multiple: true },
      threads: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`expected one directory, got ${positionals.length}\n${USAGE}`);
  const threads = values.threads === undefined ? 1 : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer`);

  const dir = positionals[0]!;
  console.log(`parity: ${dir}`);
  const report = await runParity({
    dir,
    exclude: list(values.exclude),
    only: list(values.only),
    session: { threads },
    onResult: (r) => console.log(formatResult(r)),
  });
  console.log(formatSummary(report));
  return report.ok ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`parity: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
