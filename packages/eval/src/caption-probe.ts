// The caption probe: does a text2im model draw the colour, shape and place its caption names? It
// samples a fixed set of prompts in the words of the synthetic `shapes` corpus (including colour–
// shape pairs the corpus never draws) and reads each sample back: the colour of its drawn pixels
// (nearest corpus colour), its place (centroid), its shape (the outline that overlaps it best).
// Pure reading functions on RGB bytes, so they are tested on the corpus's own drawings.

import type { GlideModel, RgbImage, SessionOptions } from "glide-ts";
import { textToImage } from "glide-ts";
import {
  insidePolygons,
  isHeldOut,
  PLACE_PHRASES,
  type PlaceName,
  placeOfPoint,
  SHAPE_COLOUR_NAMES,
  SHAPE_COLOURS,
  SHAPE_NAMES,
  type ShapeColour,
  type ShapeName,
  shapePolygons,
} from "glide-ts/internals";

export interface ProbePrompt {
  prompt: string;
  colour: ShapeColour;
  shape: ShapeName;
  /** Named in the prompt, else null (any place is right). */
  place: PlaceName | null;
  /** A colour–shape pair the corpus never draws. */
  heldOut: boolean;
}

function probePrompt(colour: ShapeColour, shape: ShapeName, place: PlaceName | null = null): ProbePrompt {
  const words = `a ${colour} ${shape}${place ? ` ${PLACE_PHRASES[place]}` : ""}`;
  return { prompt: words, colour, shape, place, heldOut: isHeldOut(colour, shape) };
}

/** Every colour and shape at least once, the four held-out pairs, and the four side places. */
export const PROBE_PROMPTS: readonly ProbePrompt[] = [
  probePrompt("red", "heart"),
  probePrompt("blue", "heart"),
  probePrompt("orange", "triangle"),
  probePrompt("yellow", "star"),
  probePrompt("green", "square"),
  probePrompt("blue", "ring"),
  probePrompt("purple", "diamond"),
  probePrompt("pink", "cross"),
  probePrompt("brown", "circle"),
  probePrompt("black", "triangle"),
  probePrompt("gray", "star"),
  probePrompt("blue", "star"),
  probePrompt("yellow", "heart"),
  probePrompt("green", "circle"),
  probePrompt("purple", "square"),
  probePrompt("red", "square", "left"),
  probePrompt("blue", "circle", "right"),
  probePrompt("green", "triangle", "top"),
  probePrompt("pink", "heart", "bottom"),
];

/** How far a pixel is from white: 0 (white) … 1 (a channel at 0). */
const inkOf = (r: number, g: number, b: number) => (255 - Math.min(r, g, b)) / 255;
/** Pixels with more ink than this belong to the drawing. */
export const INK_THRESHOLD = 0.35;
/** Below this share of drawn pixels a sample is blank: no colour, shape or place. */
export const MIN_DRAWN_SHARE = 0.01;
/** An outline must overlap the drawing at least this much (intersection over union) to name it. */
export const MIN_SHAPE_IOU = 0.3;
/**
 * A sample's background is white when its edge pixels' darkest channel is at least this (median of
 * the outermost ring); the corpus's backgrounds are 255, a light grey wash reads ~220–235.
 */
export const WHITE_BACKGROUND = 240;

export interface SampleReading {
  colour: ShapeColour | "none";
  shape: ShapeName | "none";
  place: PlaceName | "none";
  /** The best outline's intersection over union with the drawing. */
  shapeIou: number;
  /**
   * The background's brightness, 0…255: the median over the picture's outermost ring of pixels of
   * each pixel's darkest channel (a drawing that touches the edge moves the median little).
   */
  background: number;
}

/** The median darkest channel of the outermost ring of pixels. */
export function backgroundOf(pixels: ArrayLike<number>, side: number, channels = 3): number {
  const ring: number[] = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (x !== 0 && y !== 0 && x !== side - 1 && y !== side - 1) continue;
      const i = (y * side + x) * channels;
      ring.push(Math.min(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!));
    }
  }
  ring.sort((a, b) => a - b);
  const mid = ring.length >> 1;
  return ring.length % 2 === 1 ? ring[mid]! : (ring[mid - 1]! + ring[mid]!) / 2;
}

export function nearestShapeColour(rgb: readonly number[]): ShapeColour {
  let best: ShapeColour = "black";
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of SHAPE_COLOUR_NAMES) {
    const [r, g, b] = SHAPE_COLOURS[name];
    const d = (rgb[0]! - r) ** 2 + (rgb[1]! - g) ** 2 + (rgb[2]! - b) ** 2;
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** The bounding box of a shape's outline at side 1, centred on 0. */
const OUTLINE_BOXES = new Map(
  SHAPE_NAMES.map((shape) => {
    const points = shapePolygons({ shape, colour: "black", cx: 0, cy: 0, side: 1 }).flat();
    const xs = points.map(([x]) => x);
    const ys = points.map(([, y]) => y);
    return [shape, { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) }] as const;
  }),
);

/** Reads a sample (RGB bytes, side × side) drawn on white. */
export function readShapeSample(pixels: ArrayLike<number>, side: number, channels = 3): SampleReading {
  const n = side * side;
  const ink = new Float32Array(n);
  let maxInk = 0;
  for (let i = 0; i < n; i++) {
    ink[i] = inkOf(pixels[i * channels]!, pixels[i * channels + 1]!, pixels[i * channels + 2]!);
    maxInk = Math.max(maxInk, ink[i]!);
  }
  const mask = ink.map((v) => (v > INK_THRESHOLD ? 1 : 0));
  const drawn = mask.reduce((a, b) => a + b, 0);
  const background = backgroundOf(pixels, side, channels);
  if (drawn < MIN_DRAWN_SHARE * n) return { colour: "none", shape: "none", place: "none", shapeIou: 0, background };
  // The colour of the fully inked pixels: anti-aliased edges mix it with the white around it.
  const sum = [0, 0, 0];
  let solid = 0;
  let cx = 0;
  let cy = 0;
  const box = { x0: side, x1: 0, y0: side, y1: 0 };
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    const x = i % side;
    const y = Math.floor(i / side);
    cx += x;
    cy += y;
    box.x0 = Math.min(box.x0, x);
    box.x1 = Math.max(box.x1, x + 1);
    box.y0 = Math.min(box.y0, y);
    box.y1 = Math.max(box.y1, y + 1);
    if (ink[i]! < 0.8 * maxInk) continue;
    solid++;
    for (let c = 0; c < 3; c++) sum[c]! += pixels[i * channels + c]!;
  }
  const colour = nearestShapeColour(sum.map((v) => v / solid));
  // Halfway between the centroid and the box's centre: a triangle's centroid sits low in its box.
  const place = placeOfPoint(
    ((cx / drawn + 0.5) / side + (box.x0 + box.x1) / (2 * side)) / 2,
    ((cy / drawn + 0.5) / side + (box.y0 + box.y1) / (2 * side)) / 2,
  );
  const { shape, iou } = bestOutline(mask, side, box);
  return { colour, shape: iou >= MIN_SHAPE_IOU ? shape : "none", place, shapeIou: iou, background };
}

/** The outline that, stretched to the drawing's bounding box (in pixels), overlaps it most (intersection over union of the drawn pixels). */
function bestOutline(
  mask: Float32Array,
  side: number,
  pixelBox: { x0: number; x1: number; y0: number; y1: number },
): { shape: ShapeName; iou: number } {
  const box = { x0: pixelBox.x0 / side, x1: pixelBox.x1 / side, y0: pixelBox.y0 / side, y1: pixelBox.y1 / side };
  let best: { shape: ShapeName; iou: number } = { shape: SHAPE_NAMES[0], iou: -1 };
  for (const name of SHAPE_NAMES) {
    const outline = OUTLINE_BOXES.get(name)!;
    const sx = (box.x1 - box.x0) / (outline.x1 - outline.x0);
    const sy = (box.y1 - box.y0) / (outline.y1 - outline.y0);
    const polygons = shapePolygons({ shape: name, colour: "black", cx: 0, cy: 0, side: 1 }).map((polygon) =>
      polygon.map(([x, y]) => [box.x0 + (x - outline.x0) * sx, box.y0 + (y - outline.y0) * sy] as const),
    );
    let both = 0;
    let either = 0;
    for (let i = 0; i < mask.length; i++) {
      const inside = insidePolygons(polygons, ((i % side) + 0.5) / side, (Math.floor(i / side) + 0.5) / side);
      if (inside && mask[i]) both++;
      if (inside || mask[i]) either++;
    }
    const iou = either > 0 ? both / either : 0;
    if (iou > best.iou) best = { shape: name, iou };
  }
  return best;
}

export interface ProbeRow extends ProbePrompt {
  readings: SampleReading[];
}

/** Shares of samples right, 0…1 (null when no prompt asks for it). */
export interface ProbeFigures {
  colour: number;
  shape: number;
  place: number | null;
  /** Colour and shape both right, on the held-out pairs only. */
  heldOutColour: number | null;
  heldOutShape: number | null;
  /** Samples whose background is white (WHITE_BACKGROUND), whatever they draw. */
  whiteBackground: number;
  samples: number;
}

const share = (hits: boolean[]): number | null =>
  hits.length === 0 ? null : hits.filter(Boolean).length / hits.length;

export function probeFigures(rows: readonly ProbeRow[]): ProbeFigures {
  const all = rows.flatMap((row) => row.readings.map((reading) => ({ row, reading })));
  const held = all.filter(({ row }) => row.heldOut);
  const placed = all.filter(({ row }) => row.place !== null);
  return {
    colour: share(all.map(({ row, reading }) => reading.colour === row.colour)) ?? 0,
    shape: share(all.map(({ row, reading }) => reading.shape === row.shape)) ?? 0,
    place: share(placed.map(({ row, reading }) => reading.place === row.place)),
    heldOutColour: share(held.map(({ row, reading }) => reading.colour === row.colour)),
    heldOutShape: share(held.map(({ row, reading }) => reading.shape === row.shape)),
    whiteBackground: share(all.map(({ reading }) => reading.background >= WHITE_BACKGROUND)) ?? 0,
    samples: all.length,
  };
}

export interface ProbeSettings {
  /** Samples per prompt (one batch from `seed`). */
  seeds: number;
  seed: number;
  sampler: string;
  steps?: number | string;
  guidance: number;
}

export const DEFAULT_PROBE_SETTINGS: ProbeSettings = { seeds: 2, seed: 1, sampler: "dpm++2m", steps: 25, guidance: 3 };

export interface ProbeReport {
  settings: ProbeSettings;
  figures: ProbeFigures;
  rows: ProbeRow[];
  images: RgbImage[];
}

/** Samples every probe prompt with `model` and reads the samples back. */
export async function runCaptionProbe(
  model: GlideModel,
  settings: ProbeSettings = DEFAULT_PROBE_SETTINGS,
  session?: SessionOptions,
): Promise<ProbeReport> {
  const rows: ProbeRow[] = [];
  const images: RgbImage[] = [];
  for (const prompt of PROBE_PROMPTS) {
    const result = await textToImage({
      prompt: prompt.prompt,
      model,
      upsampler: null,
      sampler: settings.sampler,
      steps: settings.steps,
      guidanceScale: settings.guidance,
      seed: settings.seed,
      batchSize: settings.seeds,
      session,
    });
    images.push(...result.images);
    rows.push({ ...prompt, readings: result.images.map((im) => readShapeSample(im.data, im.width)) });
  }
  return { settings, figures: probeFigures(rows), rows, images };
}

/** The figures as flat metrics (a metrics.jsonl `probe` row). */
export function probeMetrics(figures: ProbeFigures): Record<string, number> {
  const metrics: Record<string, number> = { colour: figures.colour, shape: figures.shape, samples: figures.samples };
  if (figures.place !== null) metrics.place = figures.place;
  if (figures.heldOutColour !== null) metrics.held_out_colour = figures.heldOutColour;
  if (figures.heldOutShape !== null) metrics.held_out_shape = figures.heldOutShape;
  metrics.white_background = figures.whiteBackground;
  return metrics;
}
