// `glide models`: every model glide-ts knows by name — shipped in models/ or downloadable — with its
// kind, resolution, parameters, size and whether it is here, and which family each command uses.
import type { Command } from "commander";
import {
  CATALOG,
  DEFAULT_MODEL_FAMILY,
  formatBytes,
  MODEL_FAMILIES,
  modelPath,
  presentBytes,
  resolveCacheDir,
} from "glide-ts";

interface ModelsCommandOptions {
  json?: boolean;
  cacheDir?: string;
}

export function registerModels(program: Command): void {
  program
    .command("models")
    .description("list the shipped and the downloadable models: kind, resolution, parameters, size, presence")
    .option("--json", "print JSON")
    .option(
      "--cache-dir <dir>",
      "download cache (default: $GLIDE_CACHE, $XDG_CACHE_HOME/glide-ts or ~/.cache/glide-ts)",
    )
    .action(async (options: ModelsCommandOptions) => {
      const cacheDir = resolveCacheDir(options.cacheDir);
      const rows = await Promise.all(
        CATALOG.map(async (m) => {
          const bytes = await presentBytes(m, cacheDir);
          const shipped = "shipped" in m.source;
          return {
            name: m.name,
            kind: m.kind,
            resolution: m.resolution,
            parameters: m.parameters,
            source: shipped ? "shipped" : "download",
            present: bytes !== null,
            bytes: bytes ?? m.downloadBytes ?? null,
            path: modelPath(m, cacheDir),
            description: m.description,
          };
        }),
      );
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ cacheDir, defaultFamily: DEFAULT_MODEL_FAMILY, families: MODEL_FAMILIES, models: rows }, null, 2)}\n`,
        );
        return;
      }
      const table = [["NAME", "KIND", "RES", "PARAMS", "SIZE", "STATUS", "DESCRIPTION"]];
      for (const r of rows) {
        const size = r.bytes === null ? "?" : `${r.present ? "" : "≈"}${formatBytes(r.bytes)}`;
        const status =
          r.source === "shipped" ? (r.present ? "shipped" : "missing") : r.present ? "cached" : "not downloaded";
        table.push([r.name, r.kind, r.resolution, `${(r.parameters / 1e6).toFixed(1)}M`, size, status, r.description]);
      }
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) {
        process.stdout.write(`${row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i]!) : c)).join("  ")}\n`);
      }
      process.stdout.write(
        `\nfamilies (--model): ${Object.keys(MODEL_FAMILIES).join(", ")}; default ${DEFAULT_MODEL_FAMILY}\n`,
      );
      for (const [name, f] of Object.entries(MODEL_FAMILIES))
        process.stdout.write(`  ${name.padEnd(9)}${f.description}\n`);
      process.stdout.write(`download cache: ${cacheDir}\n`);
    });
}
