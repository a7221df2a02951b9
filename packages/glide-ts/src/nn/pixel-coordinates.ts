// Each pixel's coordinates as a constant map: what place-aware layers (coord_input, coord_shift) read.
import * as g from "../graph/index.ts";

/** [1, 2, H, W]: each pixel's x, then y, from −1 (left, top) to 1 (right, bottom) at the pixel centres. */
export function pixelCoordinates(height: number, width: number): g.Tensor {
  const values = new Float32Array(2 * height * width);
  const at = (i: number, size: number) => (size === 1 ? 0 : (2 * i) / (size - 1) - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      values[y * width + x] = at(x, width);
      values[height * width + y * width + x] = at(y, height);
    }
  }
  return g.constant(values, [1, 2, height, width]);
}
