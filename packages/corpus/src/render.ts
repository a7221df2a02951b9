// Renders one SVG to square PNGs on white at each requested size. Runs inside a render worker
// process (see render-pool.ts): resvg can abort the whole process on some inputs.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import sharp from "sharp";
import { fixSvgNamespaces } from "./svg-fixes.ts";

export interface RenderJob {
  key: string;
  svg?: string;
  svgPath?: string;
  /** Crop to the drawing's bounding box plus a margin, instead of fitting the whole canvas. */
  cropToContent: boolean;
  /** One PNG per size. */
  outputs: { size: number; path: string }[];
}

export interface RenderResult {
  /** SHA-256 of the smallest output's RGB pixels: identical images across sources share it. */
  hash: string;
  /** Nothing drawn (every pixel white): the SVG uses features the renderer does not support, or is empty. */
  blank: boolean;
}

/** Fraction of the drawing's larger side added as white margin on each side when cropping. */
const MARGIN = 0.05;

export async function renderJob(job: RenderJob): Promise<RenderResult> {
  const text = job.svg ?? (await readFile(job.svgPath!, "utf8"));
  const svg = fixSvgNamespaces(text);
  const largest = Math.max(...job.outputs.map((o) => o.size));
  const square = await renderSquare(svg, largest, job.cropToContent);
  const smallest = Math.min(...job.outputs.map((o) => o.size));
  let hash = "";
  let blank = false;
  for (const { size, path } of job.outputs) {
    const resized =
      size === largest
        ? square
        : await sharp(square, { raw: { width: largest, height: largest, channels: 3 } })
            .resize(size, size, { kernel: "lanczos3" })
            .raw()
            .toBuffer();
    if (size === smallest && hash === "") {
      hash = createHash("sha256").update(resized).digest("hex");
      blank = resized.every((v) => v >= 250);
    }
    const png = await sharp(resized, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toBuffer();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, png);
  }
  return { hash, blank };
}

/** RGB pixels of a size × size rendering, the drawing centered on white. */
async function renderSquare(svg: string, size: number, cropToContent: boolean): Promise<Buffer> {
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "width", value: size },
    font: { loadSystemFonts: /<(text|tspan|flowRoot)\b/.test(svg) },
    logLevel: "off",
  });
  if (!(resvg.width > 0 && resvg.height > 0)) throw new Error("the SVG has no size");
  // No bounding box (e.g. only pattern fills): keep the whole canvas and let the blank check judge.
  const box = cropToContent ? resvg.getBBox() : undefined;
  if (box && clampToCanvas(box, canvasBox(svg, resvg.width, resvg.height))) {
    // A square around the drawing: the render then fills size × size exactly.
    const side = Math.max(box.width, box.height) * (1 + 2 * MARGIN);
    box.x += box.width / 2 - side / 2;
    box.y += box.height / 2 - side / 2;
    box.width = side;
    box.height = side;
    resvg.cropByBBox(box);
  }
  const rendered = resvg.render();
  const { width, height } = rendered;
  // Fit the longer side into the square and pad the rest with white (a wide canvas renders taller
  // than size when fitted by width, so scale it down first).
  return sharp(rendered.pixels, { raw: { width, height, channels: 4 } })
    .flatten({ background: "#ffffff" })
    .resize(size, size, { fit: "contain", background: "#ffffff", kernel: "lanczos3" })
    .removeAlpha()
    .raw()
    .toBuffer();
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The page in user units: the root's viewBox, else its size (user units are then pixels). */
function canvasBox(svg: string, width: number, height: number): Box {
  const root = /<svg(?=[\s>/])[^>]*>/.exec(svg)?.[0] ?? "";
  const viewBox = /\sviewBox\s*=\s*["']([^"']*)["']/
    .exec(root)?.[1]
    ?.trim()
    .split(/[\s,]+/)
    .map(Number);
  if (viewBox && viewBox.length === 4 && viewBox.every(Number.isFinite) && viewBox[2]! > 0 && viewBox[3]! > 0) {
    return { x: viewBox[0]!, y: viewBox[1]!, width: viewBox[2]!, height: viewBox[3]! };
  }
  return { x: 0, y: 0, width, height };
}

/**
 * Shrinks `box` to its part on the page (some files hide stray shapes far off the page, which would
 * shrink the drawing to nothing); false when nothing of it is on the page.
 */
function clampToCanvas(box: Box, canvas: Box): boolean {
  const x0 = Math.max(box.x, canvas.x);
  const y0 = Math.max(box.y, canvas.y);
  const x1 = Math.min(box.x + box.width, canvas.x + canvas.width);
  const y1 = Math.min(box.y + box.height, canvas.y + canvas.height);
  if (!(x1 > x0 && y1 > y0)) return false;
  box.x = x0;
  box.y = y0;
  box.width = x1 - x0;
  box.height = y1 - y0;
  return true;
}
