// The int8 form of a graph: each planned layer becomes a conv with static QuantizeLinear /
// DequantizeLinear pairs on its input, weight (per output channel), bias (int32) and output.
// onnxruntime fuses the pattern DQ → Conv → Q into QLinearConv (its x86 U8S8 kernels; a CPU without
// VNNI runs the same kernels on wider instructions). A pointwise layer (weight · x) becomes a 1×1
// conv on x viewed as [N, C, T, 1].
import * as g from "../graph/index.ts";
import { platform } from "../platform/platform.ts";
import { activationQuantization, type Range } from "./activation.ts";
import type { ConvRanges, Int8Plan } from "./plan.ts";
import { type Site, siteOf } from "./sites.ts";
import { quantizePerChannel } from "./weights.ts";

/** x through uint8 quantization with the scale and zero point of `range`; returns the scale too. */
function fakeQuantize(x: g.Tensor, range: Range): { y: g.Tensor; scale: number } {
  const { scale, zeroPoint } = activationQuantization(range);
  const s = g.constant(scale);
  const z = g.constant(new Uint8Array([zeroPoint]), [], "uint8");
  return { y: g.dequantizeLinear(g.quantizeLinear(x, s, z), s, z), scale: Math.fround(scale) };
}

/** The site's layer in QDQ form, on `inputs` (the layer's inputs, maybe rewritten). */
export function quantizedSite(site: Site, inputs: readonly g.Tensor[], ranges: ConvRanges): g.Tensor {
  if (site.kind === "conv") {
    const [x, , bias] = inputs as [g.Tensor, g.Tensor, g.Tensor | undefined];
    return quantizedConv(x, site.weight, bias ?? null, site.tensor.attrs as g.Conv2dOptions, ranges);
  }
  const x = inputs[1]!;
  const [out, inChannels] = site.weight.shape as [number, number];
  const [n, , length] = x.shape as [number, number, number];
  const weight = g.reshape(site.weight, [out, inChannels, 1, 1]);
  const y = quantizedConv(g.reshape(x, [n, inChannels, length, 1]), weight, null, {}, ranges);
  return g.reshape(y, [n, out, length]);
}

/** conv2d(x, weight, bias) in QDQ form; `weight` is a parameter or a reshape of one. */
function quantizedConv(
  x: g.Tensor,
  weight: g.Tensor,
  bias: g.Tensor | null,
  options: g.Conv2dOptions,
  ranges: ConvRanges,
): g.Tensor {
  const param = g.isParam(weight) ? weight : weight.inputs[0]!;
  const value = paramValue(param);
  const channels = weight.shape[0]!;
  const q = quantizePerChannel(value, channels);
  const input = fakeQuantize(x, ranges.input);
  const w = g.dequantizeLinear(
    g.constant(q.values, weight.shape),
    g.constant(q.scales, [channels]),
    g.constant(new Int8Array(channels), [channels]),
    0,
  );
  let b: g.Tensor | null = null;
  if (bias) {
    // QLinearConv's bias is int32 with scale input scale × weight scale and zero point 0.
    const biasValue = paramValue(bias);
    const scales = q.scales.map((ws) => Math.fround(input.scale * ws));
    const values = Int32Array.from(biasValue, (v, c) =>
      Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / scales[c]!))),
    );
    b = g.dequantizeLinear(
      g.constant(values, [channels]),
      g.constant(scales, [channels]),
      g.constant(new Int32Array(channels), [channels]),
      0,
    );
  }
  const y = g.conv2d(input.y, w, b, options);
  return fakeQuantize(y, ranges.output).y;
}

/** The graph with every layer that `plan` has ranges for (and does not keep in fp32) quantized. */
/** The int8 plan as the rewrite a GlideModel applies to its U-Net graph before compiling it. */
export function int8Rewrite(plan: Int8Plan): (outputs: Record<string, g.Tensor>) => Record<string, g.Tensor> {
  return (outputs) => quantizeLayers(outputs, plan);
}

export function quantizeLayers(outputs: Record<string, g.Tensor>, plan: Int8Plan): Record<string, g.Tensor> {
  return g.rewriteGraph(outputs, (t, inputs) => {
    const site = siteOf(t);
    const ranges = site === null || plan.keepFp32.has(site.name) ? undefined : plan.ranges.get(site.name);
    return site && ranges ? quantizedSite(site, inputs, ranges) : null;
  });
}

/** A parameter's values: in memory, or read back from the weight file its sessions moved them to. */
function paramValue(param: g.Tensor): Float32Array {
  const { name, value, stored } = g.paramAttrs(param);
  if (value) return value;
  const storage = platform().weights;
  if (stored && storage) return storage.read(stored, g.numel(param.shape));
  throw new g.GraphError(`int8: parameter '${name}' has no value`);
}
