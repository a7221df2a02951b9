// The corpus files besides the images: captions, manifests, attribution, failures and a summary.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SplitName } from "glide-ts/internals";
import { itemKey } from "./select.ts";
import type { CorpusItem, SourceCatalog, SourceName } from "./types.ts";

export interface KeptItem {
  item: CorpusItem;
  split: SplitName;
}

export interface Failure {
  item: CorpusItem;
  reason: string;
}

export interface Duplicate {
  item: CorpusItem;
  /** The earlier item with the identical image, which was kept. */
  original: CorpusItem;
}

export interface SourceCounts {
  title: string;
  license: string;
  /** Items the source offered (after its own exclusions). */
  collected: number;
  excluded: number;
  captionDuplicates: number;
  /** Left out by --limit. */
  notSelected: number;
  renderFailures: number;
  blank: number;
  imageDuplicates: number;
  kept: number;
  train: number;
  validation: number;
}

export interface CorpusSummary {
  builtBy: string;
  sizes: number[];
  validationFraction: number;
  total: number;
  train: number;
  validation: number;
  sources: Partial<Record<SourceName, SourceCounts>>;
  unavailable: string[];
  seconds: number;
}

/**
 * `<size>/<split>/<key>.txt` next to each image (a folder dataset per split), and JSONL manifests:
 * `<size>/train.jsonl`, `<size>/validation.jsonl`, and `<size>/all.jsonl` with both, whose keys
 * hash to the same split (so a trainer holding out the same fraction by key hash gets this split).
 */
export async function writeCaptionsAndManifests(dir: string, sizes: number[], kept: KeptItem[]): Promise<void> {
  for (const { item, split } of kept) {
    for (const size of sizes)
      await writeFile(join(dir, String(size), split, `${itemKey(item)}.txt`), `${item.caption}\n`);
  }
  const line = ({ item, split }: KeptItem) =>
    JSON.stringify({
      key: itemKey(item),
      image: `${split}/${itemKey(item)}.png`,
      caption: item.caption,
      source: item.source,
    });
  const manifests: [string, KeptItem[]][] = [
    ["train", kept.filter((k) => k.split === "train")],
    ["validation", kept.filter((k) => k.split === "validation")],
    ["all", kept],
  ];
  for (const size of sizes) {
    for (const [name, entries] of manifests) {
      const text = entries.map(line).join("\n");
      await writeFile(join(dir, String(size), `${name}.jsonl`), text ? `${text}\n` : "");
    }
  }
}

export async function writeAttribution(
  dir: string,
  catalogs: SourceCatalog[],
  kept: KeptItem[],
  counts: Partial<Record<SourceName, SourceCounts>>,
): Promise<void> {
  const lines = kept.map(({ item }) =>
    JSON.stringify({
      key: itemKey(item),
      source: item.source,
      origin: item.origin,
      author: item.author ?? null,
      license: item.license.title,
      licenseSpdx: item.license.spdx,
      licenseUrl: item.license.url,
    }),
  );
  await writeFile(join(dir, "attribution.jsonl"), lines.length > 0 ? `${lines.join("\n")}\n` : "");
  const sections = catalogs.map((c) => {
    const n = counts[c.source]?.kept ?? 0;
    const shareAlike = c.license.spdx.includes("SA")
      ? " The rendered images are adaptations of the originals and are shared under the same licence."
      : "";
    return [
      `## ${c.title}: ${n} images`,
      "",
      `- Author: ${c.author} (${c.homepage})`,
      `- Licence: ${c.license.title} (${c.license.url}).${shareAlike}`,
      `- Keys: \`${c.source}/…\`; each image's original file or icon name and author are in attribution.jsonl.`,
      ...(c.notice ? [`- ${c.notice}`] : []),
    ].join("\n");
  });
  const text = [
    "# Attribution",
    "",
    "This corpus was rendered by `glide data build` (glide-ts) from the SVG sources below, at the sizes",
    "listed in corpus.json, on a white background. Captions were derived from the sources' names,",
    "annotations and keywords. `attribution.jsonl` lists every image with its source, origin, author",
    "and licence.",
    "",
    ...sections.flatMap((s) => [s, ""]),
  ].join("\n");
  await writeFile(join(dir, "ATTRIBUTION.md"), text);
}

/** One tab-separated line per item that was not rendered: source, id, origin, reason. */
export async function writeFailures(dir: string, failures: Failure[]): Promise<void> {
  const lines = failures.map(({ item, reason }) =>
    [item.source, item.id, item.origin, reason.replace(/[\t\n]+/g, " ")].join("\t"),
  );
  await writeFile(join(dir, "failures.log"), lines.length > 0 ? `${lines.join("\n")}\n` : "");
}

/** One tab-separated line per image dropped as identical to an earlier one: its key, then the kept key. */
export async function writeDuplicates(dir: string, duplicates: Duplicate[]): Promise<void> {
  const lines = duplicates.map(({ item, original }) => `${itemKey(item)}\t${itemKey(original)}`);
  await writeFile(join(dir, "duplicates.log"), lines.length > 0 ? `${lines.join("\n")}\n` : "");
}

export async function writeSummary(dir: string, summary: CorpusSummary): Promise<void> {
  await writeFile(join(dir, "corpus.json"), `${JSON.stringify(summary, null, 2)}\n`);
}
