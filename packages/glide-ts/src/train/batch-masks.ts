// Random inpainting masks for training the inpainting variants: 1 marks the known pixels the model
// sees, 0 the region it must fill. GLIDE's paper erases "random regions"; we erase either one
// rectangle or a few thick brush strokes (free-form masks in the style of DeepFill v2), drawn from
// the run's seeded generator so a run is reproducible.
import type { Rng } from "../util/rng.ts";
import { checkPositiveInteger } from "../validate.ts";

const uniformIn = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.uniform();

/** Erases an axis-aligned rectangle whose sides are ¼ to ¾ of the image's. */
function eraseRectangle(mask: Float32Array, height: number, width: number, rng: Rng): void {
  const h = Math.max(1, Math.round(uniformIn(rng, height / 4, (3 * height) / 4)));
  const w = Math.max(1, Math.round(uniformIn(rng, width / 4, (3 * width) / 4)));
  const top = rng.int(height - h + 1);
  const left = rng.int(width - w + 1);
  for (let y = top; y < top + h; y++) mask.fill(0, y * width + left, y * width + left + w);
}

function eraseDisk(mask: Float32Array, height: number, width: number, cy: number, cx: number, r: number): void {
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(height - 1, Math.ceil(cy + r));
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(width - 1, Math.ceil(cx + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      // Pixel centres at (y + ½, x + ½).
      if ((y + 0.5 - cy) ** 2 + (x + 0.5 - cx) ** 2 <= r * r) mask[y * width + x] = 0;
    }
  }
}

/** Erases 1–3 strokes, each a polyline of 1–4 segments drawn with a round brush. */
function eraseStrokes(mask: Float32Array, height: number, width: number, rng: Rng): void {
  const side = Math.min(height, width);
  const strokes = 1 + rng.int(3);
  for (let s = 0; s < strokes; s++) {
    let y = uniformIn(rng, 0, height);
    let x = uniformIn(rng, 0, width);
    const radius = Math.max(0.75, uniformIn(rng, side / 32, side / 10));
    const segments = 1 + rng.int(4);
    for (let k = 0; k < segments; k++) {
      const angle = uniformIn(rng, 0, 2 * Math.PI);
      const length = uniformIn(rng, side / 8, side / 2.5);
      const ny = Math.min(Math.max(y + length * Math.sin(angle), 0), height);
      const nx = Math.min(Math.max(x + length * Math.cos(angle), 0), width);
      const steps = Math.max(1, Math.ceil(Math.hypot(ny - y, nx - x) / 0.5));
      for (let i = 0; i <= steps; i++) {
        eraseDisk(mask, height, width, y + ((ny - y) * i) / steps, x + ((nx - x) * i) / steps, radius);
      }
      y = ny;
      x = nx;
    }
  }
}

/** One mask [height × width]: a rectangle or brush strokes (even odds). */
export function randomInpaintMask(rng: Rng, height: number, width: number): Float32Array {
  checkPositiveInteger(height, "the inpainting mask height");
  checkPositiveInteger(width, "the inpainting mask width");
  const mask = new Float32Array(height * width).fill(1);
  if (rng.uniform() < 0.5) eraseRectangle(mask, height, width, rng);
  else eraseStrokes(mask, height, width, rng);
  return mask;
}

/** Masks for a batch, [batch, 1, height, width]. */
export function randomInpaintMasks(rng: Rng, batch: number, height: number, width: number): Float32Array {
  const out = new Float32Array(batch * height * width);
  for (let n = 0; n < batch; n++) out.set(randomInpaintMask(rng, height, width), n * height * width);
  return out;
}
