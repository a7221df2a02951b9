// Matrix products and 2-D convolution, with gradients in standard ONNX ops.
import { GraphError } from "../dtype.ts";
import { formatShape } from "../shape.ts";
import { apply, type OpDef, type Tensor } from "../tensor.ts";
import { add, unbroadcast } from "./elementwise.ts";
import { constant } from "./leaf.ts";
import { concat, pad, padAxis, reshape, slice, sum, transpose } from "./shape-reduce.ts";

function broadcastBatch(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error("batch");
    out.push(Math.max(da, db));
  }
  return out;
}

/** Swaps the last two axes. */
export function transposeLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

const MatMulOp: OpDef<null> = {
  name: "matmul",
  infer: ([a, b]) => {
    const bad = () =>
      new GraphError(`matmul: shapes ${formatShape(a!.shape)} and ${formatShape(b!.shape)} do not multiply`);
    if (a!.dtype !== "float32" || b!.dtype !== "float32") throw new GraphError("matmul: expected float32 inputs");
    if (a!.rank < 2 || b!.rank < 2 || a!.shape[a!.rank - 1] !== b!.shape[b!.rank - 2]) throw bad();
    let batch: number[];
    try {
      batch = broadcastBatch(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    } catch {
      throw bad();
    }
    return { shape: [...batch, a!.shape[a!.rank - 2]!, b!.shape[b!.rank - 1]!], dtype: "float32" };
  },
  emit: (e, [a, b]) => e.node("MatMul", [a!, b!]),
  grad: (g, y) => {
    const [a, b] = y.inputs as [Tensor, Tensor];
    return [unbroadcast(matmul(g, transposeLast(b)), a.shape), unbroadcast(matmul(transposeLast(a), g), b.shape)];
  },
};
/** Batched matrix product a[..., M, K] · b[..., K, N] with broadcasting over batch axes. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return apply(MatMulOp, [a, b], null);
}

/** x · Wᵀ + b with PyTorch's Linear layout (weight [out, in]). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new GraphError(
      `linear: input ${formatShape(x.shape)} does not fit weight ${formatShape(weight.shape)} ([out, in])`,
    );
  }
  const y = matmul(x, transpose(weight, [1, 0]));
  return bias ? add(y, bias) : y;
}

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
}
interface ConvAttrs {
  stride: number;
  padding: number;
  dilation: number;
}

function convOutSize(size: number, k: number, a: ConvAttrs): number {
  return Math.floor((size + 2 * a.padding - a.dilation * (k - 1) - 1) / a.stride) + 1;
}

const Conv2dOp: OpDef<ConvAttrs> = {
  name: "conv2d",
  infer: ([x, w, b], a) => {
    const [n, c, h, wd] = x!.shape;
    const [o, ci, kh, kw] = w!.shape;
    const fail = (why: string) =>
      new GraphError(`conv2d: input ${formatShape(x!.shape)} and weight ${formatShape(w!.shape)}: ${why}`);
    if (x!.rank !== 4 || w!.rank !== 4) throw fail("expected 4-D input [N, C, H, W] and weight [O, C, kH, kW]");
    if (c !== ci) throw fail(`input has ${c} channels, weight expects ${ci}`);
    if (b && (b.rank !== 1 || b.shape[0] !== o)) throw fail(`bias ${formatShape(b.shape)} should be [${o}]`);
    const oh = convOutSize(h!, kh!, a);
    const ow = convOutSize(wd!, kw!, a);
    if (oh < 1 || ow < 1) throw fail("the kernel does not fit");
    return { shape: [n!, o!, oh, ow], dtype: "float32" };
  },
  emit: (e, inputs, a, self) => {
    const w = self.inputs[1]!;
    const p = a.padding;
    return e.node("Conv", inputs, {
      kernel_shape: { ints: [w.shape[2]!, w.shape[3]!] },
      strides: { ints: [a.stride, a.stride] },
      pads: { ints: [p, p, p, p] },
      dilations: { ints: [a.dilation, a.dilation] },
    });
  },
  grad: (g, y) => {
    const [x, w, b] = y.inputs as [Tensor, Tensor, Tensor | undefined];
    const a = y.attrs as ConvAttrs;
    if (a.dilation !== 1) throw new GraphError("conv2d: gradients are implemented for dilation 1 only");
    const grads: (Tensor | null)[] =
      a.stride === 1
        ? [inputGradStride1(g, w, a.padding), weightGradStride1(x, g, w, a.padding)]
        : stridedGrads(x, w, g, a);
    if (b) grads.push(sum(g, [0, 2, 3]));
    return grads;
  },
};

/**
 * dX for stride 1 is a plain convolution of dY with the kernel flipped and its channel axes swapped,
 * padded by k − 1 − p: as fast as the forward pass, where ConvTranspose is much slower on CPU.
 */
function inputGradStride1(g: Tensor, w: Tensor, padding: number): Tensor {
  const [o, c, kh, kw] = w.shape as [number, number, number, number];
  // The flipped-kernel convolution needs a square kernel and padding p ≤ k − 1 (its own padding is k − 1 − p).
  if (kh !== kw || padding > kh - 1)
    return convTranspose2d(g, w, {
      stride: 1,
      padding,
      dilation: 1,
      outH: g.shape[2]! + kh - 1 - 2 * padding,
      outW: g.shape[3]! + kw - 1 - 2 * padding,
    });
  let flipped = w;
  if (kh > 1) {
    // Reversing the flattened kernel window flips both spatial axes at once.
    const taps = kh * kw;
    const reverse = new Float32Array(taps * taps);
    for (let i = 0; i < taps; i++) reverse[i * taps + (taps - 1 - i)] = 1;
    flipped = reshape(matmul(reshape(w, [o * c, taps]), constant(reverse, [taps, taps])), [o, c, kh, kw]);
  }
  return conv2d(g, transpose(flipped, [1, 0, 2, 3]), null, { padding: kh - 1 - padding });
}

/**
 * dW for stride 1 as matrix products, one per kernel tap, on a "wide" layout that makes every
 * tap's window one contiguous range: the padded input flattened over (row, column), and dY padded
 * on the right to the padded width (those columns are zero, so the window's wrapped-around
 * columns add nothing). dW[:, :, i, j] = Σ_n dY_wide[n] · window_ij[n]ᵀ, with window_ij the flat
 * input from offset i·Wp + j. The windows are long contiguous copies (no strided slices, no
 * transposes); the K axis is oh·Wp instead of oh·ow.
 */
function weightGradStride1(x: Tensor, g: Tensor, w: Tensor, padding: number): Tensor {
  const [o, c, kh, kw] = w.shape as [number, number, number, number];
  const [n, , oh, ow] = g.shape as [number, number, number, number];
  const [h, wd] = [x.shape[2]!, x.shape[3]!];
  const wp = wd + 2 * padding;
  // The last tap's window runs kw − 1 elements past the padded image: one more zero row covers it.
  const rows = h + 2 * padding + (kw > 1 ? 1 : 0);
  const flat = reshape(pad(x, [undefined, undefined, [padding, rows - h - padding], [padding, padding]]), [
    n,
    c,
    rows * wp,
  ]);
  const span = oh * wp;
  const wideG = reshape(padAxis(g, 3, 0, wp - ow), [n, o, span]);
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window = slice(flat, 2, i * wp + j, i * wp + j + span);
      taps.push(reshape(sum(matmul(wideG, transposeLast(window)), 0), [o, c, 1]));
    }
  }
  return reshape(concat(taps, 2), [o, c, kh, kw]);
}

/** Strided convolutions: dX by ConvTranspose, dW by correlating the input with dY (docs/ARCHITECTURE.md). */
function stridedGrads(x: Tensor, w: Tensor, g: Tensor, a: ConvAttrs): Tensor[] {
  const [kh, kw] = [w.shape[2]!, w.shape[3]!];
  const dx = convTranspose2d(g, w, { ...a, outH: x.shape[2]!, outW: x.shape[3]! });
  // Batch and channel axes swapped, dY's stride becoming a dilation.
  const xt = transpose(x, [1, 0, 2, 3]);
  const gt = transpose(g, [1, 0, 2, 3]);
  const full = apply(Conv2dOp, [xt, gt], { stride: 1, padding: a.padding, dilation: a.stride });
  return [dx, transpose(slice(slice(full, 2, 0, kh), 3, 0, kw), [1, 0, 2, 3])];
}

/** 2-D cross-correlation like torch.nn.functional.conv2d (groups 1, square stride/padding). */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const attrs: ConvAttrs = {
    stride: options.stride ?? 1,
    padding: options.padding ?? 0,
    dilation: options.dilation ?? 1,
  };
  return apply(Conv2dOp, bias ? [x, weight, bias] : [x, weight], attrs);
}

interface ConvTransposeAttrs extends ConvAttrs {
  outH: number;
  outW: number;
}
const ConvTranspose2dOp: OpDef<ConvTransposeAttrs> = {
  name: "convTranspose2d",
  infer: ([g, w], a) => {
    if (g!.rank !== 4 || w!.rank !== 4 || g!.shape[1] !== w!.shape[0]) {
      throw new GraphError(
        `convTranspose2d: input ${formatShape(g!.shape)} does not fit weight ${formatShape(w!.shape)}`,
      );
    }
    return { shape: [g!.shape[0]!, w!.shape[1]!, a.outH, a.outW], dtype: "float32" };
  },
  emit: (e, [g, w], a, self) => {
    const wt = self.inputs[1]!;
    const [kh, kw] = [wt.shape[2]!, wt.shape[3]!];
    const p = a.padding;
    // Explicit pads and output_padding: auto_pad=SAME_* is wrong in onnxruntime (docs/ARCHITECTURE.md).
    const extraH = (a.outH + 2 * p - kh) % a.stride;
    const extraW = (a.outW + 2 * p - kw) % a.stride;
    return e.node("ConvTranspose", [g!, w!], {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [a.stride, a.stride] },
      pads: { ints: [p, p, p, p] },
      output_padding: { ints: [extraH, extraW] },
    });
  },
  grad: (g, y) => {
    const [, w] = y.inputs as [Tensor, Tensor];
    const a = y.attrs as ConvTransposeAttrs;
    // The adjoint of a transposed convolution is the convolution itself. The weight gradient is
    // left out: this op only appears inside first-order gradients.
    return [conv2d(g, w, null, { stride: a.stride, padding: a.padding }), null];
  },
};
/** The adjoint of conv2d with respect to its input: maps dY [N, O, h, w] to dX [N, C, outH, outW]. */
export function convTranspose2d(g: Tensor, weight: Tensor, a: ConvTransposeAttrs): Tensor {
  return apply(ConvTranspose2dOp, [g, weight], a);
}
