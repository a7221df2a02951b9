// The super-res variants' conditioning: the training image shrunk by box averaging and quantized to
// 8 bits, as the low-resolution output of the base model reaches the upsampler (GLIDE's sampling
// code rounds the 64×64 samples to 8-bit levels before upsampling them).
import { quantize8bit } from "../image/pixels.ts";
import { InvalidValueError } from "../validate.ts";

/** Area (box) downsampling of NCHW images by an integer factor: each output pixel is a block mean. */
export function downsampleBox(images: Float32Array, shape: readonly number[], factor: number): Float32Array {
  const [n, c, h, w] = shape as [number, number, number, number];
  if (shape.length !== 4 || images.length !== n * c * h * w) {
    throw new RangeError(`downsampleBox: ${images.length} values do not fill [${shape.join(", ")}]`);
  }
  if (!Number.isInteger(factor) || factor < 1 || h % factor !== 0 || w % factor !== 0) {
    throw new RangeError(`downsampleBox: factor ${factor} does not divide ${h}×${w}`);
  }
  const oh = h / factor;
  const ow = w / factor;
  const out = new Float32Array(n * c * oh * ow);
  const area = factor * factor;
  for (let plane = 0; plane < n * c; plane++) {
    const src = plane * h * w;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let acc = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = src + (y * factor + dy) * w + x * factor;
          for (let dx = 0; dx < factor; dx++) acc += images[row + dx]!;
        }
        out[plane * oh * ow + y * ow + x] = acc / area;
      }
    }
  }
  return out;
}

/** The low-res input for a batch of training images [N, 3, S, S]: box-downsampled to `lowSize`, 8-bit. */
export function lowResFromImages(images: Float32Array, shape: readonly number[], lowSize: number): Float32Array {
  const size = shape[2]!;
  if (!Number.isInteger(lowSize) || lowSize < 1 || size % lowSize !== 0) {
    throw new InvalidValueError(`low-res size ${lowSize} must divide the image size ${size}`);
  }
  return quantize8bit(downsampleBox(images, shape, size / lowSize));
}
