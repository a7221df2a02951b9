// Shared by the trainer tests: a folder dataset of solid-colour squares.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";

export const SQUARES: Record<string, [number, number, number]> = {
  "a red square": [230, 20, 20],
  "a green square": [20, 200, 40],
  "a blue square": [30, 40, 230],
  "a yellow square": [240, 220, 20],
};

/** Writes one 16×16 PNG and caption per colour into `dir`. */
export async function writeSquares(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [caption, [r, g, b]] of Object.entries(SQUARES)) {
    const name = caption.replaceAll(" ", "-");
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g, b } } })
      .png()
      .toFile(join(dir, `${name}.png`));
    await writeFile(join(dir, `${name}.txt`), caption);
  }
}
