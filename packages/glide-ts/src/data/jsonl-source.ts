// A JSONL manifest: one {"image": path, "caption": text} object a line (an optional "key" too);
// image paths are relative to the manifest's folder.
import { readFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { unencodableText } from "../glide/tokenizer.ts";
import { DatasetError } from "./dataset.ts";
import type { IndexedEntry } from "./indexed-dataset.ts";

/** The manifest's pairs in file order. Keys default to the image path without its extension. */
export async function readManifest(path: string): Promise<IndexedEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new DatasetError(`cannot read manifest ${path}: ${(error as Error).message}`);
  }
  const base = dirname(path);
  const entries: IndexedEntry[] = [];
  const seen = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const where = `${path}:${i + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new DatasetError(`${where}: not valid JSON`);
    }
    const { image, caption, key } = (record ?? {}) as Record<string, unknown>;
    if (typeof image !== "string" || image === "") throw new DatasetError(`${where}: "image" must be a path`);
    if (typeof caption !== "string") throw new DatasetError(`${where}: "caption" must be a string`);
    // JSON's \u escapes can spell half a UTF-16 pair, which no tokenizer can read.
    const unreadable = unencodableText(caption);
    if (unreadable !== null) throw new DatasetError(`${where}: the caption cannot be read: ${unreadable}`);
    if (key !== undefined && typeof key !== "string") throw new DatasetError(`${where}: "key" must be a string`);
    const entryKey = key ?? image.slice(0, image.length - extname(image).length);
    if (seen.has(entryKey)) throw new DatasetError(`${where}: duplicate key ${entryKey}`);
    seen.add(entryKey);
    entries.push({ key: entryKey, imagePath: isAbsolute(image) ? image : resolve(base, image), caption });
  }
  return entries;
}
