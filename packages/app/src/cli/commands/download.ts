// `glide download NAME…`: fetch released checkpoints into the cache; `glide download --list`.
import { constants } from "node:os";
import type { Command } from "commander";
import {
  CHECKPOINT_NAMES,
  type CheckpointName,
  CLIP_VOCABULARY,
  cacheStatus,
  catalogModel,
  checkCheckpointName,
  checkpointAliases,
  checkpointNamesText,
  checkpointUrl,
  clipVocabularyPath,
  clipVocabularyStatus,
  DownloadError,
  type DownloadProgress,
  type DownloadResult,
  downloadCheckpoint,
  downloadClipVocabulary,
  type FileStatus,
  formatBytes,
  needsClipVocabulary,
  ProgressBar,
  remoteSize,
  resolveBaseUrl,
  resolveCacheDir,
  resolveClipVocabularyUrl,
} from "glide-ts";
import { UsageError } from "../errors.ts";

interface DownloadCommandOptions {
  list?: boolean;
  remote?: boolean;
  json?: boolean;
  cacheDir?: string;
  baseUrl?: string;
  clipVocabUrl?: string;
  force?: boolean;
  quiet?: boolean;
}

export function registerDownload(program: Command): void {
  program
    .command("download")
    .description("download released GLIDE checkpoints into the cache directory (resumes interrupted downloads)")
    .argument("[names...]", `checkpoints to download: ${checkpointNamesText()}`)
    .option("--list", "list the checkpoints, whether each is in the cache, and their sizes")
    .option("--remote", "with --list: ask the server for the size of each file")
    .option("--json", "with --list: print JSON")
    .option(
      "--cache-dir <dir>",
      "cache directory (default: $GLIDE_CACHE, $XDG_CACHE_HOME/glide-ts or ~/.cache/glide-ts)",
    )
    .option("--base-url <url>", "where the files are (default: $GLIDE_DOWNLOAD_BASE_URL or OpenAI's public bucket)")
    .option(
      "--clip-vocab-url <url>",
      `where CLIP's ${CLIP_VOCABULARY.file} is (default: $GLIDE_CLIP_VOCAB_URL or the glide-text2im repository on GitHub)`,
    )
    .option("--force", "download again even if already in the cache")
    .option("-q, --quiet", "no progress bar")
    .addHelpText(
      "after",
      `\nCheckpoints (sizes estimated at 4 bytes a parameter):\n${CHECKPOINT_NAMES.map((n) => `  ${n.padEnd(18)}${catalogModel(n).description} (≈${formatBytes(downloadBytes(n))})`).join("\n")}\n` +
        `\nThe CLIP towers are also called ${CHECKPOINT_NAMES.flatMap(checkpointAliases).join(" and ")}; either one also fetches\n` +
        `CLIP's BPE vocabulary (${CLIP_VOCABULARY.file}, ${formatBytes(CLIP_VOCABULARY.bytes)}) into the cache, checked by its SHA-256.\n` +
        "\nThe models shipped with glide-ts need no download (`glide models` lists all).\n",
    )
    .action(async (names: string[], options: DownloadCommandOptions) => {
      const cacheDir = resolveCacheDir(options.cacheDir);
      const baseUrl = resolveBaseUrl(options.baseUrl);
      if (options.list) {
        if (names.length > 0) throw new UsageError("--list takes no checkpoint names");
        await list(cacheDir, baseUrl, options);
        return;
      }
      if (names.length === 0) {
        throw new UsageError(`name the checkpoints to download (${checkpointNamesText()}), or use --list`);
      }
      const unique = [...new Set(names.map(checkCheckpointName))];
      const vocabularyUrl = unique.some(needsClipVocabulary) ? resolveClipVocabularyUrl(options.clipVocabUrl) : null;
      await download(unique, cacheDir, baseUrl, vocabularyUrl, options);
    });
}

/** The checkpoints in turn, the first CLIP one followed by the vocabulary. */
async function download(
  names: CheckpointName[],
  cacheDir: string,
  baseUrl: string,
  vocabularyUrl: string | null,
  options: DownloadCommandOptions,
): Promise<void> {
  const controller = new AbortController();
  const stopListening = stopOnSignals(controller);
  const common = { cacheDir, force: options.force, signal: controller.signal };
  const files: { name: string; fetch: (bar: BarCallbacks) => Promise<DownloadResult> }[] = [];
  for (const name of names) {
    files.push({ name, fetch: (bar) => downloadCheckpoint(name, { ...common, baseUrl, ...bar }) });
    if (vocabularyUrl !== null && needsClipVocabulary(name) && !files.some((f) => f.name === CLIP_VOCABULARY.name)) {
      const url = vocabularyUrl;
      files.push({ name: CLIP_VOCABULARY.name, fetch: (bar) => downloadClipVocabulary({ ...common, url, ...bar }) });
    }
  }
  try {
    for (const file of files) if (!(await downloadOne(file.name, options, file.fetch))) return;
  } finally {
    stopListening();
  }
}

type BarCallbacks = { onProgress: (p: DownloadProgress) => void; onNotice: (message: string) => void };

/** One file with its progress bar; false when the user stopped it (the process then ends). */
async function downloadOne(
  name: string,
  options: DownloadCommandOptions,
  fetch: (bar: BarCallbacks) => Promise<DownloadResult>,
): Promise<boolean> {
  const bar = downloadBar(name, options.quiet === true);
  try {
    const result = await fetch({ onProgress: bar.update, onNotice: bar.note });
    if (result.status === "cached") {
      process.stderr.write(`${name}: already downloaded (${formatBytes(result.bytes)})\n`);
    }
    bar.end();
    process.stdout.write(`${result.path}\n`);
    return true;
  } catch (error) {
    bar.cancel();
    if (error instanceof DownloadError && error.code === "aborted") {
      process.stderr.write(`glide: ${error.message}\n`);
      process.exitCode ||= 130;
      return false;
    }
    throw error;
  }
}

/** The progress of one download: a bar made at its first progress, when the size is known. */
function downloadBar(name: string, quiet: boolean) {
  let bar: ProgressBar | null = null;
  return {
    update(p: DownloadProgress): void {
      if (quiet) return;
      if (!bar) {
        bar = new ProgressBar(name, p.total, { format: formatBytes });
        bar.resume(p.resumedFrom);
      }
      bar.update(p.received, p.resumedFrom > 0 ? `resumed at ${formatBytes(p.resumedFrom)}` : "");
    },
    note(message: string): void {
      if (bar) bar.note(message);
      else process.stderr.write(`${message}\n`);
    },
    end: () => bar?.end(),
    cancel: () => bar?.cancel(),
  };
}

/** How long a stopped download may take to let go before the process ends anyway. */
const STOP_GRACE_MS = 2000;

/**
 * SIGINT and SIGTERM stop the download (its partial file stays, for a resume) and the process ends
 * with 128 + the signal's number: once the download lets go, at a second signal, or after
 * STOP_GRACE_MS whatever it is waiting for. Returns the function that stops listening.
 */
function stopOnSignals(controller: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    const code = 128 + (constants.signals[signal] ?? 0);
    if (controller.signal.aborted) process.exit(code);
    process.exitCode = code;
    controller.abort();
    setTimeout(() => {
      process.stderr.write(`glide: stopped by ${signal}\n`);
      process.exit(code);
    }, STOP_GRACE_MS).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

async function list(cacheDir: string, baseUrl: string, options: DownloadCommandOptions): Promise<void> {
  const entries = await cacheStatus(cacheDir);
  const vocabulary = await clipVocabularyStatus(cacheDir);
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
    const clipVocabulary = {
      file: CLIP_VOCABULARY.file,
      path: clipVocabularyPath(cacheDir),
      ...vocabulary,
      url: resolveClipVocabularyUrl(options.clipVocabUrl),
    };
    process.stdout.write(`${JSON.stringify({ cacheDir, checkpoints, clipVocabulary }, null, 2)}\n`);
    return;
  }
  const rows = [["NAME", "STATUS", "SIZE", ...(options.remote ? ["REMOTE"] : []), "DESCRIPTION"]];
  for (const e of entries) {
    const r = remote.get(e.name);
    rows.push([
      [e.name, ...e.aliases].join(", "),
      e.status,
      sizeText(e, downloadBytes(e.name)),
      ...(options.remote ? [r === undefined ? "?" : formatBytes(r)] : []),
      catalogModel(e.name).description,
    ]);
  }
  rows.push([
    "(clip vocabulary)",
    vocabulary.status,
    sizeText(vocabulary, CLIP_VOCABULARY.bytes),
    ...(options.remote ? ["-"] : []),
    `CLIP's BPE vocabulary, ${CLIP_VOCABULARY.file} (fetched with either CLIP tower)`,
  ]);
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

function sizeText(entry: FileStatus, expectedBytes: number): string {
  if (entry.bytes === undefined) return `≈${formatBytes(expectedBytes)} to download`;
  if (entry.status === "partial") {
    return entry.total ? `${formatBytes(entry.bytes)} of ${formatBytes(entry.total)}` : formatBytes(entry.bytes);
  }
  return formatBytes(entry.bytes);
}
