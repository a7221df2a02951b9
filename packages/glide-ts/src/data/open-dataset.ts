// Opens any dataset format from a path (or a list of tar shards), picking the format from it.
import { stat } from "node:fs/promises";
import type { Dataset, DatasetFormat, DatasetOptions } from "./dataset.ts";
import { DatasetError } from "./dataset.ts";
import { listFolder } from "./folder-source.ts";
import { IndexedDataset } from "./indexed-dataset.ts";
import { readManifest } from "./jsonl-source.ts";
import { resolveOptions } from "./options.ts";
import { resolveShards } from "./shard-list.ts";
import { ShardedDataset } from "./sharded-dataset.ts";

/**
 * `source`: a folder of images with .txt captions; a `.jsonl` manifest; or WebDataset tar shards:
 * a `.tar` path, a pattern (`train-{000..009}.tar`, `shards/*.tar`) or a list of those.
 * `format` overrides the guess.
 */
export async function openDataset(
  source: string | readonly string[],
  options: DatasetOptions & { format?: DatasetFormat },
): Promise<Dataset> {
  const resolved = resolveOptions(options);
  const format = options.format ?? (await guessFormat(source));
  const name = typeof source === "string" ? source : source.join(", ");
  if (format === "webdataset") return new ShardedDataset(name, await resolveShards(source), resolved);
  if (typeof source !== "string") throw new DatasetError(`a ${format} dataset is one path, got ${source.length}`);
  if (format === "jsonl") return new IndexedDataset(source, "jsonl", await readManifest(source), resolved);
  const listing = await listFolder(source);
  if (listing.entries.length === 0 && listing.uncaptioned.length > 0) {
    throw new DatasetError(
      `no image–caption pairs in ${source}: ${listing.uncaptioned.length} images but none has a same-named .txt caption`,
    );
  }
  return new IndexedDataset(source, "folder", listing.entries, resolved);
}

async function guessFormat(source: string | readonly string[]): Promise<DatasetFormat> {
  if (typeof source !== "string") return "webdataset";
  if (/\.jsonl$/i.test(source)) return "jsonl";
  if (/\.(tar|tgz|tar\.gz)$/i.test(source) || /[*?{]/.test(source)) return "webdataset";
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(source)).isDirectory();
  } catch (error) {
    throw new DatasetError(`cannot read dataset ${source}: ${(error as Error).message}`);
  }
  if (!isDirectory) {
    throw new DatasetError(`cannot tell the format of ${source}: expected a folder, a .jsonl manifest or .tar shards`);
  }
  return "folder";
}
