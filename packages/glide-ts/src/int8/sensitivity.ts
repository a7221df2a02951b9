// Which layers int8 hurts: for every layer, its fp32 output and its int8 output from the same fp32
// input, in one graph, give the layer's SQNR when only that layer is quantized:
// 10·log10(Σ y² / Σ (y − y_int8)²) dB. Layers under a threshold stay fp32.
import * as g from "../graph/index.ts";
import { CompiledGraph, type HostArray, type SessionOptions } from "../runtime/session.ts";
import type { ConvRanges } from "./plan.ts";
import { quantizedSite } from "./quantize-graph.ts";
import { quantizableSites } from "./sites.ts";

/** Per-layer SQNR in dB by site (Infinity where the int8 output is exact), over all the feeds. */
export async function layerSqnr(
  outputs: Record<string, g.Tensor>,
  ranges: ReadonlyMap<string, ConvRanges>,
  feeds: readonly Record<string, HostArray>[],
  session: SessionOptions = {},
): Promise<Map<string, number>> {
  const sites = quantizableSites(Object.values(outputs)).filter((s) => ranges.has(s.name));
  const measured: Record<string, g.Tensor> = {};
  sites.forEach((site, k) => {
    const y = site.tensor;
    const error = g.sub(y, quantizedSite(site, y.inputs, ranges.get(site.name)!));
    measured[`signal.${k}`] = g.sum(g.mul(y, y));
    measured[`noise.${k}`] = g.sum(g.mul(error, error));
  });
  const graph = await CompiledGraph.compile(measured, { ...session, params: "initializers" });
  const signal = new Float64Array(sites.length);
  const noise = new Float64Array(sites.length);
  try {
    for (const feed of feeds) {
      const known = Object.fromEntries(graph.inputs.map((v) => [v.name, feed[v.name]!]));
      const out = await graph.run(known);
      sites.forEach((_, k) => {
        signal[k] += (out[`signal.${k}`] as Float32Array)[0]!;
        noise[k] += (out[`noise.${k}`] as Float32Array)[0]!;
      });
    }
  } finally {
    await graph.release();
  }
  return new Map(sites.map((s, k) => [s.name, noise[k] === 0 ? Infinity : 10 * Math.log10(signal[k]! / noise[k]!)]));
}
