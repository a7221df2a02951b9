// onnxruntime 1.30's WebGPU Conv computes wrong values for some input-channel counts that are not a
// multiple of 4 (measured on SwiftShader, 3×3 kernels: 6, 9 and 18 channels wrong by up to 16× the
// values, 3, 5, 7, 10, 12 and 13 right). GLIDE meets it in the upsampler's first conv (6 channels:
// the image and its low-res) and in every training step (the gradient of the 6-channel output conv).
// On WebGPU such a conv gets zero channels added to its input and weight up to a multiple of 4:
// the same sum, and a kernel path that computes it right.
import * as g from "../graph/index.ts";

const CHANNEL_MULTIPLE = 4;

/** `outputs` with every conv whose input channels are not a multiple of 4 padded with zero channels. */
export function padConvChannels(outputs: Record<string, g.Tensor>): Record<string, g.Tensor> {
  return g.rewriteGraph(outputs, (t, inputs) => {
    if (t.op.name !== "conv2d") return null;
    const [x, weight, bias] = inputs as [g.Tensor, g.Tensor, g.Tensor | undefined];
    const channels = x.shape[1]!;
    const extra = (CHANNEL_MULTIPLE - (channels % CHANNEL_MULTIPLE)) % CHANNEL_MULTIPLE;
    if (extra === 0) return null;
    const more: [number, number] = [0, extra];
    return g.conv2d(
      g.pad(x, [undefined, more]),
      g.pad(weight, [undefined, more]),
      bias ?? null,
      t.attrs as g.Conv2dOptions,
    );
  });
}
