// Full-reference picture figures on 8-bit RGB pictures: PSNR, PSNR of the low frequencies only
// (both pictures block-averaged), and SSIM on luma (Wang et al. 2004: an 11×11 Gaussian window,
// σ 1.5, K1 0.01, K2 0.03, over the window positions that fit inside the picture).
import type { RgbImage } from "glide-ts";

/** What identical pictures score (their PSNR is infinite), so that figures stay finite numbers. */
export const PSNR_CAP = 100;

function checkSameSize(a: RgbImage, b: RgbImage): void {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) {
    throw new RangeError(`pictures differ in size: ${a.width}×${a.height} and ${b.width}×${b.height}`);
  }
}

/** 10·log10(peak² / MSE) over all values, capped at PSNR_CAP. */
export function psnrOf(a: ArrayLike<number>, b: ArrayLike<number>, peak = 255): number {
  if (a.length !== b.length || a.length === 0)
    throw new RangeError(`cannot compare ${a.length} and ${b.length} values`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  const mse = sum / a.length;
  return mse === 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10((peak * peak) / mse));
}

/** PSNR of two 8-bit pictures (every channel, peak 255), in dB. */
export function psnr(a: RgbImage, b: RgbImage): number {
  checkSameSize(a, b);
  return psnrOf(a.data, b.data);
}

/**
 * PSNR of the pictures' `factor` × `factor` block means (unrounded): how well the coarse layout and
 * colours agree, whatever the fine detail. With the upsampling factor, it is the agreement at the
 * low-res input's scale.
 */
export function lowFrequencyPsnr(a: RgbImage, b: RgbImage, factor: number): number {
  checkSameSize(a, b);
  return psnrOf(blockMeans(a, factor), blockMeans(b, factor));
}

function blockMeans(image: RgbImage, factor: number): Float64Array {
  const { width, height, data } = image;
  if (!Number.isInteger(factor) || factor < 1 || width % factor !== 0 || height % factor !== 0) {
    throw new RangeError(`block size ${factor} does not divide ${width}×${height}`);
  }
  const ow = width / factor;
  const oh = height / factor;
  const out = new Float64Array(ow * oh * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (Math.floor(y / factor) * ow + Math.floor(x / factor)) * 3;
      for (let c = 0; c < 3; c++) out[o + c] += data[(y * width + x) * 3 + c]!;
    }
  }
  const area = factor * factor;
  for (let i = 0; i < out.length; i++) out[i] /= area;
  return out;
}

const SSIM_WINDOW = 11;
const SSIM_SIGMA = 1.5;
const SSIM_C1 = (0.01 * 255) ** 2;
const SSIM_C2 = (0.03 * 255) ** 2;

/** Mean SSIM of the pictures' luma (BT.601 weights); 1 for identical pictures. */
export function ssim(a: RgbImage, b: RgbImage): number {
  checkSameSize(a, b);
  const { width, height } = a;
  // Pictures smaller than the window use a window of their size.
  const size = Math.min(SSIM_WINDOW, width, height);
  const kernel = gaussian(size, SSIM_SIGMA);
  const x = luma(a);
  const y = luma(b);
  const product = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]!);
  const [mx, my, xx, yy, xy] = [x, y, product(x, x), product(y, y), product(x, y)].map((plane) =>
    filterValid(plane, width, height, kernel),
  ) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const [ux, uy] = [mx[i]!, my[i]!];
    const vx = xx[i]! - ux * ux;
    const vy = yy[i]! - uy * uy;
    const cov = xy[i]! - ux * uy;
    sum += ((2 * ux * uy + SSIM_C1) * (2 * cov + SSIM_C2)) / ((ux * ux + uy * uy + SSIM_C1) * (vx + vy + SSIM_C2));
  }
  return sum / mx.length;
}

function luma(image: RgbImage): Float64Array {
  const out = new Float64Array(image.width * image.height);
  const d = image.data;
  for (let p = 0; p < out.length; p++) out[p] = 0.299 * d[p * 3]! + 0.587 * d[p * 3 + 1]! + 0.114 * d[p * 3 + 2]!;
  return out;
}

function gaussian(size: number, sigma: number): Float64Array {
  const centre = (size - 1) / 2;
  const k = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  const total = k.reduce((s, v) => s + v, 0);
  return k.map((v) => v / total);
}

/** The separable filter at every position where the window fits: [(H − k + 1) × (W − k + 1)]. */
function filterValid(plane: Float64Array, width: number, height: number, kernel: Float64Array): Float64Array {
  const k = kernel.length;
  const ow = width - k + 1;
  const oh = height - k + 1;
  const rows = new Float64Array(height * ow);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += kernel[i]! * plane[y * width + x + i]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += kernel[i]! * rows[(y + i) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean, min and max of some figures (null for none). */
export interface FigureSummary {
  mean: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): FigureSummary | null {
  if (values.length === 0) return null;
  return {
    mean: values.reduce((s, v) => s + v, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}
