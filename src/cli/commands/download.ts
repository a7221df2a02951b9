// `glide download NAME…`: fetch released checkpoints into the cache; `glide download --list`.
import type { Command } from "commander";
import { resolveCacheDir } from "../../io/cache-dir.ts";
import {
  type CacheEntry,
  CHECKPOINT_NAMES,
  CHECKPOINTS,
  cacheStatus,
  checkCheckpointName,
  checkpointUrl,
  DownloadError,
  type DownloadProgress,
  downloadCheckpoint,
  formatBytes,
  remoteSize,
  resolveBaseUrl,
} from "../../io/download.ts";
import { catalogModel } from "../../models/catalog.ts";
import { formatClock } from "../../util/progress-bar.ts";

interface DownloadCommandOptions {
  list?: boolean;
  remote?: boolean;
  json?: boolean;
  cacheDir?: string;
  baseUrl?: string;
  force?: boolean;
  quiet?: boolean;
}

export function registerDownload(program: Command): void {
  program
    .command("download")
    .description("download released GLIDE checkpoints into the cache directory (resumes interrupted downloads)")
    .argument("[names...]", `checkpoints to download: ${CHECKPOINT_NAMES.join(", ")}`)
    .option("--list", "list the checkpoints, whether each is in the cache, and their sizes")
    .option("--remote", "with --list: ask the server for the size of each file")
    .option("--json", "with --list: print JSON")
    .option(
      "--cache-dir <dir>",
      "cache directory (default: $GLIDE_CACHE, $XDG_CACHE_HOME/glide-ts or ~/.cache/glide-ts)",
    )
    .option("--base-url <url>", "where the files are (default: $GLIDE_DOWNLOAD_BASE_URL or OpenAI's public bucket)")
    .option("--force", "download again even if already in the cache")
    .option("-q, --quiet", "no progress bar")
    .addHelpText(
      "after",
      `\nCheckpoints (sizes estimated at 4 bytes a parameter):\n${CHECKPOINT_NAMES.map((n) => `  ${n.padEnd(18)}${CHECKPOINTS[n].description} (≈${formatBytes(downloadBytes(n))})`).join("\n")}\n` +
        "\nThe models shipped with glide-ts need no download (`glide models` lists all).\n",
    )
    .action(async (names: string[], options: DownloadCommandOptions) => {
      const cacheDir = resolveCacheDir(options.cacheDir);
      const baseUrl = resolveBaseUrl(options.baseUrl);
      if (options.list) {
        if (names.length > 0) throw new Error("--list takes no checkpoint names");
        await list(cacheDir, baseUrl, options);
        return;
      }
      if (names.length === 0) {
        throw new Error(`name the checkpoints to download (${CHECKPOINT_NAMES.join(", ")}), or use --list`);
      }
      const unique = [...new Set(names.map(checkCheckpointName))];
      await download(unique, cacheDir, baseUrl, options);
    });
}

async function download(
  names: string[],
  cacheDir: string,
  baseUrl: string,
  options: DownloadCommandOptions,
): Promise<void> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (const name of names) {
      const bar = new ProgressBar(process.stderr, name, !options.quiet);
      try {
        const result = await downloadCheckpoint(name, {
          cacheDir,
          baseUrl,
          force: options.force,
          signal: controller.signal,
          onProgress: (p) => bar.update(p),
          onNotice: (message) => bar.note(message),
        });
        if (result.status === "cached") {
          process.stderr.write(`${name}: already downloaded (${formatBytes(result.bytes)})\n`);
        } else {
          bar.done(result.bytes);
        }
        process.stdout.write(`${result.path}\n`);
      } catch (error) {
        bar.clear();
        if (error instanceof DownloadError && error.code === "aborted") {
          process.stderr.write(`glide: ${error.message}\n`);
          process.exitCode = 130;
          return;
        }
        throw error;
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function list(cacheDir: string, baseUrl: string, options: DownloadCommandOptions): Promise<void> {
  const entries = await cacheStatus(cacheDir);
  const remote = new Map<string, number | undefined>();
  if (options.remote) {
    try {
      for (const entry of entries) remote.set(entry.name, await remoteSize(entry.name, { baseUrl }));
    } catch (error) {
      process.stderr.write(`glide: no remote sizes: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  if (options.json) {
    const checkpoints = entries.map((e) => ({
      ...e,
      url: checkpointUrl(e.name, baseUrl),
      ...(options.remote ? { remoteBytes: remote.get(e.name) ?? null } : {}),
    }));
    process.stdout.write(`${JSON.stringify({ cacheDir, checkpoints }, null, 2)}\n`);
    return;
  }
  const rows = [["NAME", "STATUS", "SIZE", ...(options.remote ? ["REMOTE"] : []), "DESCRIPTION"]];
  for (const e of entries) {
    const r = remote.get(e.name);
    rows.push([
      e.name,
      e.status,
      sizeText(e),
      ...(options.remote ? [r === undefined ? "?" : formatBytes(r)] : []),
      CHECKPOINTS[e.name].description,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  process.stdout.write(`cache directory: ${cacheDir}\n`);
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join("  ")}\n`);
  }
}

/** A release's download size, from its parameter count. */
function downloadBytes(name: string): number {
  return catalogModel(name).downloadBytes ?? 0;
}

function sizeText(entry: CacheEntry): string {
  if (entry.bytes === undefined) return `≈${formatBytes(downloadBytes(entry.name))} to download`;
  if (entry.status === "partial") {
    return entry.total ? `${formatBytes(entry.bytes)} of ${formatBytes(entry.total)}` : formatBytes(entry.bytes);
  }
  return formatBytes(entry.bytes);
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr: a live bar on a terminal; elsewhere only the final line.

/** One line of the live bar, fitted to `columns`. */
export function progressLine(
  label: string,
  received: number,
  total: number | undefined,
  bytesPerSecond: number,
  columns: number,
): string {
  const speed = `${formatBytes(Math.round(bytesPerSecond))}/s`;
  if (total === undefined || total <= 0) return `${label}  ${formatBytes(received)}  ${speed}`;
  const fraction = Math.min(1, received / total);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const eta = bytesPerSecond > 0 ? formatClock((total - received) / bytesPerSecond) : "--:--";
  const tail = `${percent}  ${formatBytes(received)} / ${formatBytes(total)}  ${speed}  ETA ${eta}`;
  const barWidth = Math.min(30, columns - label.length - tail.length - 6);
  if (barWidth < 5) return `${label}  ${tail}`;
  const filled = Math.round(fraction * barWidth);
  return `${label}  [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${tail}`;
}

class ProgressBar {
  private readonly live: boolean;
  private readonly start = Date.now();
  private lastDraw = 0;
  private resumedFrom = 0;
  private drawn = false;
  /** Recent (time, bytes) samples for the speed shown. */
  private samples: [number, number][] = [];

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
    private readonly enabled: boolean,
  ) {
    this.live = enabled && stream.isTTY === true;
  }

  update(p: DownloadProgress): void {
    this.resumedFrom = p.resumedFrom;
    const now = Date.now();
    this.samples.push([now, p.received]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    if (!this.live || (now - this.lastDraw < 100 && p.received !== p.total)) return;
    this.lastDraw = now;
    const [t0, b0] = this.samples[0]!;
    const speed = now > t0 ? ((p.received - b0) * 1000) / (now - t0) : 0;
    const columns = this.stream.columns || 80;
    this.stream.write(`\r${progressLine(this.label, p.received, p.total, speed, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  note(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
  }

  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }

  done(bytes: number): void {
    this.clear();
    if (!this.enabled) return;
    const seconds = (Date.now() - this.start) / 1000;
    const fetched = bytes - this.resumedFrom;
    const speed = seconds > 0 ? `${formatBytes(Math.round(fetched / seconds))}/s` : "";
    const resumed = this.resumedFrom > 0 ? `, resumed at ${formatBytes(this.resumedFrom)}` : "";
    this.stream.write(
      `${this.label}: ${formatBytes(bytes)} in ${formatClock(seconds)}${speed ? ` (${speed}${resumed})` : ""}\n`,
    );
  }
}
