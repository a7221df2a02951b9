// A folder of images with same-named .txt captions (searched recursively).
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { DatasetError } from "./dataset.ts";
import type { IndexedEntry } from "./indexed-dataset.ts";

export const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp"]);

export interface FolderListing {
  entries: IndexedEntry[];
  /** Images without a caption file (not used). */
  uncaptioned: string[];
}

/** Every image with a caption under `root`, sorted by key (relative path without extension, `/`-separated). */
export async function listFolder(root: string): Promise<FolderListing> {
  const images = new Map<string, string>();
  const captions = new Map<string, string>();
  await walk(root, root, images, captions);
  const entries: IndexedEntry[] = [];
  const uncaptioned: string[] = [];
  for (const [key, imagePath] of images) {
    const captionPath = captions.get(key);
    if (captionPath === undefined) uncaptioned.push(imagePath);
    else entries.push({ key, imagePath, captionPath });
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { entries, uncaptioned };
}

async function walk(
  root: string,
  dir: string,
  images: Map<string, string>,
  captions: Map<string, string>,
): Promise<void> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new DatasetError(`cannot read dataset folder ${dir}: ${(error as Error).message}`);
  }
  for (const dirent of dirents) {
    const path = join(dir, dirent.name);
    if (dirent.isDirectory()) {
      await walk(root, path, images, captions);
      continue;
    }
    if (!dirent.isFile() && !dirent.isSymbolicLink()) continue;
    const ext = extname(dirent.name).toLowerCase();
    const key = relative(root, path)
      .slice(0, -ext.length || undefined)
      .split(sep)
      .join("/");
    if (ext === ".txt") captions.set(key, path);
    else if (IMAGE_EXTENSIONS.has(ext)) {
      const other = images.get(key);
      if (other !== undefined) throw new DatasetError(`two images share the caption key ${key}: ${other} and ${path}`);
      images.set(key, path);
    }
  }
}
