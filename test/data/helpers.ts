// Test helpers: tiny images made with sharp, temp folders, and WebDataset tar shards.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import sharp from "sharp";
import tar from "tar-stream";
import type { Dataset, Sample } from "../../packages/glide-ts/src/data/index.ts";

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "glide-data-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Rgba = [number, number, number, number];

/** A solid image, or columns of colors side by side (each `height` wide) when given several. */
export async function makeImage(
  colors: Rgba[],
  options: { height?: number; format?: "png" | "jpeg" | "webp" } = {},
): Promise<Buffer> {
  const { height = 8, format = "png" } = options;
  const width = height * colors.length;
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colors[Math.floor(x / height)]!;
      pixels.set(c, (y * width + x) * 4);
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels: 4 } });
  if (format === "jpeg") return image.jpeg({ quality: 100 }).toBuffer();
  if (format === "webp") return image.webp({ lossless: true }).toBuffer();
  return image.png().toBuffer();
}

/** Solid opaque color with a distinct red channel per index, so samples are told apart by pixels. */
export const shade = (i: number): Rgba => [i * 20, 100, 200, 255];

export async function writeFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** A tar shard of the given members (name → bytes or text), in order. */
export async function writeTar(path: string, members: [string, string | Uint8Array][]): Promise<void> {
  const pack = tar.pack();
  for (const [name, data] of members) pack.entry({ name }, Buffer.from(data));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  await writeFile(path, Buffer.concat(chunks));
}

/** The first `n` samples of a dataset (or all, when it ends first). */
export async function take(dataset: Dataset, n: number): Promise<Sample[]> {
  const out: Sample[] = [];
  if (n === 0) return out;
  for await (const sample of dataset) {
    out.push(sample);
    if (out.length === n) break;
  }
  return out;
}

export const keysOf = (samples: Sample[]): string[] => samples.map((s) => s.key);

/** The RGB value in [-1, 1] of one pixel of a [3, size, size] image. */
export function pixel(image: Float32Array, size: number, x: number, y: number): [number, number, number] {
  const plane = size * size;
  const i = y * size + x;
  return [image[i]!, image[plane + i]!, image[2 * plane + i]!];
}

/** 0..255 → the dataset's [-1, 1]. */
export const unit = (v: number): number => v / 127.5 - 1;
