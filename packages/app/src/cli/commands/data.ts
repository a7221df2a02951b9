// `glide data build OUT_DIR`: renders the image–caption corpus; `glide data check DATASET`: reads a
// dataset once and reports its pairs and unreadable images.

import type { SourceName } from "@glide-ts/corpus";
import type { Command } from "commander";
import { Option } from "commander";
import { GlideError, openDataset } from "glide-ts";
import { DEFAULT_VALIDATION_FRACTION } from "glide-ts/internals";
import { OptionValueError } from "../errors.ts";
import { parseSeed } from "../parse.ts";

/** The corpus builder is an optional package (200 MB of emoji and clip-art sources): null without it. */
async function loadCorpusBuilder(): Promise<typeof import("@glide-ts/corpus") | null> {
  try {
    return await import("@glide-ts/corpus");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String(error).includes("@glide-ts/corpus")) return null;
    throw error;
  }
}

const corpus = await loadCorpusBuilder();

export function registerData(program: Command): void {
  const data = program.command("data").description("build and check image–caption datasets");
  if (corpus) registerBuild(data, corpus);
  else {
    data
      .command("build")
      .description("render a captioned corpus (needs the optional package @glide-ts/corpus)")
      .allowUnknownOption()
      .argument("[args...]")
      .action(() => {
        throw new GlideError("glide data build needs the corpus builder: npm install @glide-ts/corpus");
      });
  }
  registerCheck(data);
}

function registerBuild(data: Command, corpus: typeof import("@glide-ts/corpus")): void {
  const { buildCorpus, DEFAULT_SHAPES, OPENCLIPART_DIR, SOURCE_NAMES } = corpus;
  data
    .command("build")
    .description(
      "render a captioned corpus: synthetic coloured shapes, OpenMoji, Iconify emoji sets and Debian's openclipart-svg",
    )
    .argument("<out-dir>", "where the corpus goes (written in a temporary folder beside it, then renamed)")
    .addOption(
      new Option("--size <sizes>", "comma-separated square image sides")
        .argParser(list(integer))
        .default([64, 256], "64,256"),
    )
    .option("--limit <n>", "render at most n items, spread over the sources", integer)
    .option("--shapes <count>", "pictures of the synthetic shapes source", integer, DEFAULT_SHAPES.count)
    .option("--shapes-seed <n>", "seed of the shapes source's pictures", parseSeed, DEFAULT_SHAPES.seed)
    .option(
      "--shapes-place-share <fraction>",
      "share of the shapes source's one-object captions that name the place (default: 2 of its 5 templates)",
      shareOfOne,
    )
    .addOption(
      new Option("--sources <names>", "comma-separated source names")
        .argParser(list(sourceName(SOURCE_NAMES)))
        .default([...SOURCE_NAMES], SOURCE_NAMES.join(",")),
    )
    .option(
      "--validation <fraction>",
      "held-out share of the pairs (by key hash)",
      fraction,
      DEFAULT_VALIDATION_FRACTION,
    )
    .option("--workers <n>", "render processes (default: one per CPU)", integer)
    .option("--timeout <seconds>", "per-SVG render time limit", integer, 60)
    .option("--openclipart-dir <dir>", "the openclipart SVG folder", OPENCLIPART_DIR)
    .option("--force", "replace OUT_DIR if it exists")
    .action(async (outDir: string, opts: BuildFlags) => {
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once("SIGINT", interrupt);
      process.once("SIGTERM", interrupt);
      try {
        await buildCorpus({
          outDir,
          sizes: opts.size,
          sources: opts.sources,
          shapes: { count: opts.shapes, seed: opts.shapesSeed, placeShare: opts.shapesPlaceShare },
          limit: opts.limit,
          validationFraction: opts.validation,
          workers: opts.workers,
          timeoutMs: opts.timeout * 1000,
          openclipartDir: opts.openclipartDir,
          force: opts.force,
          signal: controller.signal,
        });
      } finally {
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
      }
    });
}

function registerCheck(data: Command): void {
  data
    .command("check")
    .description("read every pair of a dataset once (folder, .jsonl manifest or tar shards) and report")
    .argument("<dataset...>", "a folder, a .jsonl manifest, or tar shards (paths or patterns)")
    .option("--resolution <px>", "decode at this size", integer, 64)
    .action(async (sources: string[], opts: { resolution: number }) => {
      const dataset = await openDataset(sources.length === 1 ? sources[0]! : sources, {
        resolution: opts.resolution,
        shuffle: false,
        epochs: 1,
      });
      let pairs = 0;
      for await (const _ of dataset) pairs++;
      process.stdout.write(`${dataset.source} (${dataset.format}): ${pairs} pairs, ${dataset.skipped.count} skipped\n`);
      for (const key of dataset.skipped.keys)
        process.stdout.write(`  skipped ${key}: ${dataset.skipped.reason(key)}\n`);
    });
}

interface BuildFlags {
  size: number[];
  limit?: number;
  shapes: number;
  shapesSeed: number;
  shapesPlaceShare?: number;
  sources: SourceName[];
  validation: number;
  workers?: number;
  timeout: number;
  openclipartDir: string;
  force?: boolean;
}

function integer(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new OptionValueError(`expected a positive integer, got ${value}`);
  }
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !(n >= 0 && n < 1))
    throw new OptionValueError(`expected a number in [0, 1), got ${value}`);
  return n;
}

function shareOfOne(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !(n >= 0 && n <= 1))
    throw new OptionValueError(`expected a number in [0, 1], got ${value}`);
  return n;
}

function sourceName(known: readonly SourceName[]): (value: string) => SourceName {
  return (value) => {
    if (!(known as readonly string[]).includes(value)) {
      throw new OptionValueError(`unknown source ${value}; expected some of ${known.join(", ")}`);
    }
    return value as SourceName;
  };
}

function list<T>(parse: (item: string) => T): (value: string) => T[] {
  return (value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean)
      .map(parse);
}
