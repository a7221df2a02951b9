// Spatial resampling of NCHW tensors: 2×2 average pooling, nearest 2× upsampling, bilinear resize.
import { GraphError } from "../dtype.ts";
import { formatShape } from "../shape.ts";
import { apply, type OpDef, type Tensor } from "../tensor.ts";
import { mul } from "./elementwise.ts";
import { constant } from "./leaf.ts";
import { matmul } from "./linalg.ts";

function require4d(op: string, x: Tensor): [number, number, number, number] {
  if (x.rank !== 4) throw new GraphError(`${op}: expected [N, C, H, W], got ${formatShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

const AvgPoolOp: OpDef<null> = {
  name: "avgPool2x2",
  infer: ([x]) => {
    const [n, c, h, w] = require4d("avgPool2x2", x!);
    if (h % 2 || w % 2) throw new GraphError(`avgPool2x2: spatial size ${h}×${w} is not even`);
    return { shape: [n, c, h / 2, w / 2], dtype: "float32" };
  },
  emit: (e, [x]) => e.node("AveragePool", [x!], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }),
  grad: (g) => [mul(upsampleNearest2x(g), 0.25)],
};
/** 2×2 average pooling with stride 2. */
export function avgPool2x2(x: Tensor): Tensor {
  return apply(AvgPoolOp, [x], null);
}

const UpsampleOp: OpDef<null> = {
  name: "upsampleNearest2x",
  infer: ([x]) => {
    const [n, c, h, w] = require4d("upsampleNearest2x", x!);
    return { shape: [n, c, 2 * h, 2 * w], dtype: "float32" };
  },
  emit: (e, [x]) =>
    e.node("Resize", [x!, "", e.float32([1, 1, 2, 2])], {
      mode: { s: "nearest" },
      coordinate_transformation_mode: { s: "asymmetric" },
      nearest_mode: { s: "floor" },
    }),
  grad: (g) => [mul(avgPool2x2(g), 4)],
};
/** Nearest-neighbour 2× upsampling (torch's F.interpolate(scale_factor=2, mode="nearest")). */
export function upsampleNearest2x(x: Tensor): Tensor {
  return apply(UpsampleOp, [x], null);
}

/**
 * The [outSize, inSize] matrix of 1-D linear interpolation with half-pixel centres and
 * align_corners=false, as PyTorch computes it (source coordinates below 0 clamp to 0).
 */
export function bilinearMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const frac = src - i0;
    m[o * inSize + i0]! += 1 - frac;
    m[o * inSize + i1]! += frac;
  }
  return m;
}

interface ResizeAttrs {
  height: number;
  width: number;
}
const ResizeOp: OpDef<ResizeAttrs> = {
  name: "resizeBilinear",
  infer: ([x], a) => {
    const [n, c] = require4d("resizeBilinear", x!);
    return { shape: [n, c, a.height, a.width], dtype: "float32" };
  },
  // half_pixel, not pytorch_half_pixel: the latter reads source 0 for an output of length 1, where
  // PyTorch (and bilinearMatrix, which the gradient uses) samples the centre.
  emit: (e, [x], _a, self) =>
    e.node("Resize", [x!, "", "", e.int64(self.shape)], {
      mode: { s: "linear" },
      coordinate_transformation_mode: { s: "half_pixel" },
    }),
  grad: (g, y) => {
    // Bilinear resize is y = Mh · x · Mwᵀ per image, so dx = Mhᵀ · dy · Mw.
    const [, , h, w] = y.inputs[0]!.shape as [number, number, number, number];
    const { height, width } = y.attrs as ResizeAttrs;
    const mhT = transposed(bilinearMatrix(h, height), height, h);
    const mw = constant(bilinearMatrix(w, width), [width, w]);
    return [matmul(constant(mhT, [h, height]), matmul(g, mw))];
  },
};
function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}
/** Bilinear resize to height × width (align_corners=false, no antialiasing), as torch's F.interpolate. */
export function resizeBilinear(x: Tensor, height: number, width: number): Tensor {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new GraphError(`resizeBilinear: invalid target size ${height}×${width}`);
  }
  return apply(ResizeOp, [x], { height, width });
}
