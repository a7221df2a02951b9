// `glide data build`: collects captioned SVGs from the installed sources, renders them in a pool
// of worker processes, drops duplicates and failures, splits train/validation by key hash, and
// writes a folder dataset (+ JSONL manifests) with attribution. Everything is written into a
// temporary folder beside the output and renamed into place at the end.

import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GlideError, ProgressBar, type ProgressStream } from "glide-ts";
import { DEFAULT_VALIDATION_FRACTION, splitOf } from "glide-ts/internals";
import { withoutHeldOutPairs } from "./held-out.ts";
import { loadIconifySet } from "./iconify.ts";
import { loadOpenclipart, OPENCLIPART_DIR } from "./openclipart.ts";
import { loadOpenmoji } from "./openmoji.ts";
import type { Outcome } from "./process-pool.ts";
import { ProcessPool } from "./process-pool.ts";
import type { RenderJob, RenderResult } from "./render.ts";
import { dedupeCaptions, itemKey, limitItems } from "./select.ts";
import { DEFAULT_SHAPES, loadShapes, type ShapesSourceOptions } from "./shapes.ts";
import type { CorpusItem, SourceCatalog, SourceName } from "./types.ts";
import { SOURCE_NAMES, SourceUnavailable } from "./types.ts";
import type { CorpusSummary, Duplicate, Failure, KeptItem, SourceCounts } from "./write-corpus.ts";
import {
  writeAttribution,
  writeCaptionsAndManifests,
  writeDuplicates,
  writeFailures,
  writeSummary,
} from "./write-corpus.ts";

export interface BuildOptions {
  outDir: string;
  /** Square image sides in pixels (default 64 and 256). */
  sizes?: number[];
  sources?: readonly SourceName[];
  /** The `shapes` source's picture count and seed (default 30000 from seed 1). */
  shapes?: ShapesSourceOptions;
  /** At most this many items are rendered, spread over the sources. */
  limit?: number;
  /** Share of pairs held out for validation (by key hash; default DEFAULT_VALIDATION_FRACTION, 0.02). */
  validationFraction?: number;
  /** Render worker processes (default: one per CPU). */
  workers?: number;
  /** Per SVG (default 60 s). */
  timeoutMs?: number;
  /** Replace an existing output folder. */
  force?: boolean;
  openclipartDir?: string;
  /** The render worker module (tests inject one that crashes on purpose). */
  rendererModule?: string;
  /** Messages and progress (default: stderr). */
  stderr?: ProgressStream;
  signal?: AbortSignal;
}

export class CorpusError extends GlideError {
  override name = "CorpusError";
}

const DEFAULT_RENDERER = fileURLToPath(
  new URL(`./render-worker.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
);

export async function buildCorpus(options: BuildOptions): Promise<CorpusSummary> {
  const started = performance.now();
  const outDir = resolve(options.outDir);
  const sizes = [...new Set(options.sizes ?? [64, 256])].sort((a, b) => a - b);
  const sources = options.sources ?? SOURCE_NAMES;
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const stderr = options.stderr ?? process.stderr;
  const say = (line: string) => stderr.write(`${line}\n`);
  checkOptions(options, outDir, sizes, validationFraction);

  const catalogs: SourceCatalog[] = [];
  const unavailable: string[] = [];
  for (const source of sources) {
    try {
      catalogs.push(withoutHeldOutPairs(await loadSource(source, options)));
    } catch (error) {
      if (!(error instanceof SourceUnavailable)) throw error;
      unavailable.push(error.message);
      say(`warning: ${error.message}; building from the other sources`);
    }
  }
  if (catalogs.length === 0) throw new CorpusError(`no source is available: ${unavailable.join("; ")}`);

  const counts: Partial<Record<SourceName, SourceCounts>> = {};
  let selected = catalogs.map((catalog) => {
    const { kept, dropped } = catalog.captionsRepeat
      ? { kept: catalog.items, dropped: 0 }
      : dedupeCaptions(catalog.items);
    counts[catalog.source] = {
      title: catalog.title,
      license: catalog.license.title,
      collected: catalog.items.length,
      excluded: catalog.excluded.length,
      captionDuplicates: dropped,
      notSelected: 0,
      renderFailures: 0,
      blank: 0,
      imageDuplicates: 0,
      kept: 0,
      train: 0,
      validation: 0,
    };
    say(
      `${catalog.source}: ${catalog.items.length} items, ${dropped} duplicate captions, ${catalog.excluded.length} excluded`,
    );
    return kept;
  });
  if (options.limit !== undefined) {
    const limited = limitItems(selected, options.limit);
    limited.forEach((items, s) => {
      counts[catalogs[s]!.source]!.notSelected = selected[s]!.length - items.length;
    });
    selected = limited;
  }
  const items = selected.flat();
  const keys = new Set<string>();
  for (const item of items) {
    if (keys.has(itemKey(item))) throw new Error(`two corpus items share the key ${itemKey(item)}`);
    keys.add(itemKey(item));
  }

  const tempDir = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}`);
  await rm(tempDir, { recursive: true, force: true });
  await mkdir(tempDir, { recursive: true });
  try {
    const outcomes = await renderAll(items, sizes, tempDir, options, stderr);
    const kept: KeptItem[] = [];
    const failures: Failure[] = [];
    const duplicates: Duplicate[] = [];
    const firstWithImage = new Map<string, CorpusItem>();
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const outcome = outcomes[i]!;
      const count = counts[item.source]!;
      const split = splitOf(itemKey(item), validationFraction);
      let drop: string | undefined;
      if (!outcome.ok) {
        count.renderFailures++;
        failures.push({ item, reason: outcome.reason });
        drop = "failed";
      } else if (outcome.result.blank) {
        count.blank++;
        failures.push({ item, reason: "blank: nothing visible was rendered" });
        drop = "blank";
      } else if (firstWithImage.has(outcome.result.hash)) {
        count.imageDuplicates++;
        duplicates.push({ item, original: firstWithImage.get(outcome.result.hash)! });
        drop = "duplicate";
      } else {
        firstWithImage.set(outcome.result.hash, item);
        kept.push({ item, split });
        count.kept++;
        count[split]++;
      }
      if (drop) {
        for (const size of sizes) await rm(imagePath(tempDir, size, split, item), { force: true });
      }
    }
    if (kept.length === 0) throw new CorpusError("no image was rendered; see the messages above");
    await writeCaptionsAndManifests(tempDir, sizes, kept);
    await writeAttribution(tempDir, catalogs, kept, counts);
    await writeFailures(tempDir, failures);
    await writeDuplicates(tempDir, duplicates);
    const summary: CorpusSummary = {
      builtBy: "glide data build",
      sizes,
      validationFraction,
      total: kept.length,
      train: kept.filter((k) => k.split === "train").length,
      validation: kept.filter((k) => k.split === "validation").length,
      sources: counts,
      unavailable,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    await writeSummary(tempDir, summary);
    await swapInto(tempDir, outDir);
    say(
      `wrote ${outDir}: ${summary.total} pairs (train ${summary.train}, validation ${summary.validation}), ` +
        `${failures.length} failures (failures.log), ${summary.seconds} s`,
    );
    return summary;
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

function checkOptions(options: BuildOptions, outDir: string, sizes: number[], validationFraction: number): void {
  if (existsSync(outDir) && !options.force) {
    throw new CorpusError(`${outDir} already exists (pass --force to replace it)`);
  }
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 8 || size > 2048)
      throw new CorpusError(`sizes must be integers in 8..2048, got ${size}`);
  }
  if (sizes.length === 0) throw new CorpusError("no sizes given");
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new CorpusError(`the validation fraction must be in [0, 1), got ${validationFraction}`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new CorpusError(`--limit must be a positive integer, got ${options.limit}`);
  }
  const shapes = options.shapes;
  if (shapes && !(Number.isInteger(shapes.count) && shapes.count > 0 && shapes.count <= 1_000_000)) {
    throw new CorpusError(`--shapes must be a positive integer up to 1000000, got ${shapes.count}`);
  }
  if (shapes && !(Number.isSafeInteger(shapes.seed) && shapes.seed >= 0)) {
    throw new CorpusError(`--shapes-seed must be a non-negative integer, got ${shapes.seed}`);
  }
  if (shapes?.placeShare !== undefined && !(shapes.placeShare >= 0 && shapes.placeShare <= 1)) {
    throw new CorpusError(`--shapes-place-share must be in [0, 1], got ${shapes.placeShare}`);
  }
  for (const source of options.sources ?? []) {
    if (!SOURCE_NAMES.includes(source)) {
      throw new CorpusError(`unknown source ${source}; expected some of ${SOURCE_NAMES.join(", ")}`);
    }
  }
}

async function loadSource(source: SourceName, options: BuildOptions): Promise<SourceCatalog> {
  if (source === "shapes") return loadShapes(options.shapes ?? DEFAULT_SHAPES);
  if (source === "openmoji") return loadOpenmoji();
  if (source === "openclipart") return loadOpenclipart(options.openclipartDir ?? OPENCLIPART_DIR);
  return loadIconifySet(source);
}

function imagePath(dir: string, size: number, split: string, item: CorpusItem): string {
  return join(dir, String(size), split, `${itemKey(item)}.png`);
}

async function renderAll(
  items: CorpusItem[],
  sizes: number[],
  dir: string,
  options: BuildOptions,
  stderr: ProgressStream,
): Promise<Outcome<RenderResult>[]> {
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const pool = new ProcessPool<RenderJob, RenderResult>({
    module: options.rendererModule ?? DEFAULT_RENDERER,
    workers: options.workers ?? Math.max(1, availableParallelism()),
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  const progress = new ProgressBar("rendering", items.length, { stream: stderr, unit: "items", logEveryMs: 10_000 });
  let done = 0;
  let failed = 0;
  const onAbort = () => void pool.close();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const outcomes = await Promise.all(
      items.map(async (item) => {
        const split = splitOf(itemKey(item), validationFraction);
        const outcome = await pool.run({
          key: itemKey(item),
          svg: item.svg,
          svgPath: item.svgPath,
          cropToContent: item.cropToContent,
          outputs: sizes.map((size) => ({ size, path: imagePath(dir, size, split, item) })),
        });
        done++;
        if (!outcome.ok) failed++;
        progress.update(done, `${failed} failed${pool.restarts > 0 ? `, ${pool.restarts} worker restarts` : ""}`);
        return outcome;
      }),
    );
    if (options.signal?.aborted) throw new CorpusError("interrupted");
    return outcomes;
  } catch (error) {
    if (options.signal?.aborted) throw new CorpusError("interrupted");
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await pool.close();
  }
}

/** Moves the finished corpus into place; an existing one (with --force) is replaced only now. */
async function swapInto(tempDir: string, outDir: string): Promise<void> {
  if (!existsSync(outDir)) {
    await rename(tempDir, outDir);
    return;
  }
  const old = `${tempDir}.old`;
  await rename(outDir, old);
  await rename(tempDir, outDir);
  await rm(old, { recursive: true, force: true });
}
