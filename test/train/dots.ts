// The four-dot corpus of the caption-learning test and bench:pooling: 16×16 mid-grey pictures with
// a 2×2 white dot whose place the caption names, and the score of a model trained on it (how many
// of its guided samples are nearest their own caption's picture).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import type { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";

export const DOT_SIZE = 16;
/** Caption → top-left corner of the dot. */
export const DOTS: Record<string, [number, number]> = {
  "a dot at the top": [2, 7],
  "a dot at the bottom": [12, 7],
  "a dot on the left": [7, 2],
  "a dot on the right": [7, 12],
};

/** Writes one PNG and caption per dot into `dir`; returns caption → CHW picture in [−1, 1]. */
export async function writeDots(dir: string): Promise<Map<string, Float32Array>> {
  const size = DOT_SIZE;
  await mkdir(dir, { recursive: true });
  const images = new Map<string, Float32Array>();
  for (const [i, [caption, [top, left]]] of Object.entries(DOTS).entries()) {
    const raw = Buffer.alloc(size * size * 3, 128);
    const chw = new Float32Array(3 * size * size).fill(128 / 127.5 - 1);
    for (let y = top; y < top + 2; y++)
      for (let x = left; x < left + 2; x++)
        for (let c = 0; c < 3; c++) {
          raw[(y * size + x) * 3 + c] = 255;
          chw[c * size * size + y * size + x] = 1;
        }
    await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(join(dir, `${i}.png`));
    await writeFile(join(dir, `${i}.txt`), caption);
    images.set(caption, chw);
  }
  return images;
}

const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;

export interface DotScore {
  /** Samples nearest (MSE) the picture of their own caption. */
  right: number;
  total: number;
  /** One line per sample: its caption, seed, nearest picture and the distances. */
  report: string[];
}

/** Samples every caption once per seed (25 DDIM steps at `guidance`) and scores them. */
export async function scoreDots(
  model: GlideModel,
  images: ReadonlyMap<string, Float32Array>,
  options: { seeds: readonly number[]; guidance: number; threads?: number },
): Promise<DotScore> {
  const score: DotScore = { right: 0, total: 0, report: [] };
  for (const caption of images.keys()) {
    for (const seed of options.seeds) {
      const { samples } = await textToImage({
        prompt: caption,
        model,
        sampler: "ddim",
        steps: 25,
        guidanceScale: options.guidance,
        seed,
        batchSize: 1,
        threads: options.threads,
      });
      const distances = [...images].map(([other, image]) => [other, mse(samples, image)] as const);
      const nearest = distances.reduce((a, b) => (b[1] < a[1] ? b : a))[0];
      score.total++;
      if (nearest === caption) score.right++;
      score.report.push(
        `'${caption}' (seed ${seed}) → nearest '${nearest}' (${distances.map(([k, d]) => `${k}: ${d.toFixed(4)}`).join(", ")})`,
      );
    }
  }
  return score;
}
