// The layers of a graph that int8 inference may quantize ("sites"), named by their weight
// parameter without ".weight" (`input_blocks.1.0.in_layers.2`, `middle_block.1.qkv`):
//   - conv: a conv2d whose weight is a parameter;
//   - pointwise: a 1×1 Conv1d written as a product weight · x (nn.PointwiseConv1d: the attention
//     blocks' qkv, encoder_kv and proj_out), quantized as a 1×1 conv.
import * as g from "../graph/index.ts";
import { topologicalOrder } from "../graph/traverse.ts";

export type SiteKind = "conv" | "pointwise";

export interface Site {
  name: string;
  kind: SiteKind;
  /** The layer's output tensor (conv2d or matmul). */
  tensor: g.Tensor;
  /** Its activation input. */
  input: g.Tensor;
  /** Its weight parameter: [out, in, k, k] (conv) or [out, in, 1] (pointwise). */
  weight: g.Tensor;
}

const siteName = (weight: g.Tensor) => g.paramAttrs(weight).name.replace(/\.weight$/, "");

/** The site `t` is, or null. */
export function siteOf(t: g.Tensor): Site | null {
  if (t.op.name === "conv2d" && g.isParam(t.inputs[1]!)) {
    const weight = t.inputs[1]!;
    return { name: siteName(weight), kind: "conv", tensor: t, input: t.inputs[0]!, weight };
  }
  if (t.op.name === "matmul") {
    const [left, right] = t.inputs as [g.Tensor, g.Tensor];
    const weight = left.op.name === "reshape" ? left.inputs[0]! : null;
    if (weight && g.isParam(weight) && weight.rank === 3 && weight.shape[2] === 1 && right.rank === 3) {
      return { name: siteName(weight), kind: "pointwise", tensor: t, input: right, weight };
    }
  }
  return null;
}

/** Every quantizable layer of the graph, inputs first. */
export function quantizableSites(outputs: readonly g.Tensor[]): Site[] {
  return topologicalOrder(outputs).flatMap((t) => siteOf(t) ?? []);
}
