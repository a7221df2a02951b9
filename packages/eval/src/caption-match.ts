// The caption-match figure's pure parts: a small blurred signature of a picture, the nearest corpus
// picture by that signature, the stable choice of prompts, and the shares (hits and chance).

import { checkPositiveInteger, keyFraction } from "glide-ts/internals";

/** Side of the signature's grid: 8×8 cells per channel. */
export const SIGNATURE_GRID = 8;

/**
 * A picture's signature: a 3×3 box blur (edges clamped), then an area downsample to grid × grid,
 * per channel. `image` is [channels, size, size] (the model's [-1, 1] tensors). The blur makes a
 * shift by a pixel cost little, the downsample keeps only layout and colour: what "the same
 * picture" means when a 32×32 sample is compared with the corpus.
 */
export function signature(image: Float32Array, size: number, grid = SIGNATURE_GRID): Float32Array {
  const plane = size * size;
  const channels = image.length / plane;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`expected [C, ${size}, ${size}] values, got ${image.length}`);
  }
  const out = new Float32Array(channels * grid * grid);
  const blurred = new Float32Array(plane);
  for (let c = 0; c < channels; c++) {
    boxBlur3(image.subarray(c * plane, (c + 1) * plane), size, blurred);
    areaDownsample(blurred, size, grid, out.subarray(c * grid * grid, (c + 1) * grid * grid));
  }
  return out;
}

/** 3×3 mean of a size × size plane, the border pixels repeated outward. */
function boxBlur3(src: Float32Array, size: number, dst: Float32Array): void {
  const at = (y: number, x: number) =>
    src[Math.min(size - 1, Math.max(0, y)) * size + Math.min(size - 1, Math.max(0, x))]!;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += at(y + dy, x + dx);
      dst[y * size + x] = sum / 9;
    }
  }
}

/** Mean over each output cell's area (fractional pixel overlaps count by their share), any sizes. */
function areaDownsample(src: Float32Array, size: number, grid: number, dst: Float32Array): void {
  const scale = size / grid;
  const spans = Array.from({ length: grid }, (_, i) => overlaps(i * scale, (i + 1) * scale));
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      let sum = 0;
      for (const [y, wy] of spans[gy]!) for (const [x, wx] of spans[gx]!) sum += src[y * size + x]! * wy * wx;
      dst[gy * grid + gx] = sum / (scale * scale);
    }
  }
}

/** The pixels [start, end) covers, each with the length it covers. */
function overlaps(start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = Math.floor(start); p < end; p++) {
    const w = Math.min(end, p + 1) - Math.max(start, p);
    if (w > 1e-9) out.push([p, w]);
  }
  return out;
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`signatures differ in length: ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}

/** The index of the corpus signature closest to `query` (the first of equals); -1 for an empty corpus. */
export function nearest(corpus: readonly ArrayLike<number>[], query: ArrayLike<number>): number {
  let best = -1;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let i = 0; i < corpus.length; i++) {
    const d = squaredDistance(corpus[i]!, query);
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Up to `k` distinct non-empty captions (trimmed), the same ones for the same corpus: ordered by a
 * hash of the caption (ties by the text), not by file order, so they spread over the corpus's
 * sources. Captions in `exclude` are left out.
 */
export function chooseCaptions(
  captions: Iterable<string>,
  k: number,
  exclude: ReadonlySet<string> = new Set(),
): string[] {
  checkPositiveInteger(k, "the caption count");
  const distinct = new Set<string>();
  for (const c of captions) {
    const text = c.trim();
    if (text !== "" && !exclude.has(text)) distinct.add(text);
  }
  const keyed = [...distinct].map((c) => ({ c, h: keyFraction(`caption-match:${c}`) }));
  keyed.sort((a, b) => a.h - b.h || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0));
  return keyed.slice(0, k).map((x) => x.c);
}

/** How many corpus pictures have each caption. */
export function captionCounts(captions: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of captions) counts.set(c, (counts.get(c) ?? 0) + 1);
  return counts;
}

/**
 * The share of hits a random corpus picture would score: the mean over the prompts of the share of
 * the corpus's `total` pictures that carry the prompt as caption. 0 for no prompts.
 */
export function chanceShare(prompts: readonly string[], counts: ReadonlyMap<string, number>, total: number): number {
  if (prompts.length === 0 || total <= 0) return 0;
  let sum = 0;
  for (const p of prompts) sum += (counts.get(p) ?? 0) / total;
  return sum / prompts.length;
}

/** One prompt's samples: the caption of each one's nearest corpus picture. */
export interface PromptMatches {
  prompt: string;
  guided: string[];
  unguided: string[];
}

export interface MatchFigure {
  /** Prompts evaluated and samples per guidance setting. */
  captions: number;
  samples: number;
  /** Share of samples whose nearest corpus picture has the prompt's caption (null: no samples). */
  guided: number | null;
  unguided: number | null;
  chance: number | null;
  /** guided / unguided; null when either is missing or unguided is 0. */
  ratio: number | null;
}

/** The shares of one set of prompts (training or validation captions). */
export function matchFigure(
  matches: readonly PromptMatches[],
  counts: ReadonlyMap<string, number>,
  total: number,
): MatchFigure {
  const share = (pick: (m: PromptMatches) => string[]) => {
    let hits = 0;
    let samples = 0;
    for (const m of matches) {
      const found = pick(m);
      samples += found.length;
      hits += found.filter((c) => c === m.prompt).length;
    }
    return samples === 0 ? null : hits / samples;
  };
  const guided = share((m) => m.guided);
  const unguided = share((m) => m.unguided);
  const prompts = matches.map((m) => m.prompt);
  return {
    captions: matches.length,
    samples: matches.reduce((n, m) => n + m.guided.length, 0),
    guided,
    unguided,
    chance: matches.length === 0 ? null : chanceShare(prompts, counts, total),
    ratio: guided !== null && unguided !== null && unguided > 0 ? guided / unguided : null,
  };
}

/** The goal: guided at least `minGuided` on training captions and at least `minRatio` × unguided. */
export function meetsMatchGoal(figure: MatchFigure, minGuided = 0.25, minRatio = 5): boolean {
  if (figure.guided === null || figure.unguided === null) return false;
  return figure.guided >= minGuided && figure.guided >= minRatio * figure.unguided;
}
