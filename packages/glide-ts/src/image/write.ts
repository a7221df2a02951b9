// Writing pictures: PNG encoding, written atomically (a temporary file renamed into place), so a
// failed or interrupted run never leaves half a file under the final name.

import { randomBytes } from "node:crypto";
import { mkdir, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { encodePng } from "./encode.ts";
import { ImageError } from "./errors.ts";
import type { RawImage } from "./pixels.ts";
import { addPngText } from "./png-text.ts";

export { encodePng };

/** Writes `image` as a PNG at `path` (parent directories are created), with `texts` as text chunks. */
export async function writePng(path: string, image: RawImage, texts?: Readonly<Record<string, string>>): Promise<void> {
  const encoded = await encodePng(image);
  const bytes = texts ? addPngText(encoded, texts) : encoded;
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new ImageError(`cannot write '${path}': ${(error as Error).message}`);
  }
}

/** `out.png` → `out-3.png`: the path of the `index`-th (1-based) image of a batch written as `path`. */
export function numberedPath(path: string, index: number): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${index}${ext || ".png"}`;
}
