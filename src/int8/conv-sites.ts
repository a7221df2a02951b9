// The convolutions of a graph that int8 inference may quantize, named by their layer ("site"): the
// weight parameter's name without ".weight" (`input_blocks.1.0.in_layers.2`).
import * as g from "../graph/index.ts";
import { topologicalOrder } from "../graph/traverse.ts";

export interface ConvSite {
  name: string;
  /** The conv2d tensor: inputs [x, weight, bias?]. */
  conv: g.Tensor;
}

/** The site of a conv2d tensor whose weight is a parameter, else null. */
export function convSiteName(t: g.Tensor): string | null {
  if (t.op.name !== "conv2d") return null;
  const weight = t.inputs[1]!;
  if (!g.isParam(weight)) return null;
  return g.paramAttrs(weight).name.replace(/\.weight$/, "");
}

/** Every quantizable conv of the graph, inputs first. */
export function convSites(outputs: readonly g.Tensor[]): ConvSite[] {
  const sites: ConvSite[] = [];
  for (const t of topologicalOrder(outputs)) {
    const name = convSiteName(t);
    if (name !== null) sites.push({ name, conv: t });
  }
  return sites;
}
