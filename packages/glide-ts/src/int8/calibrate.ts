// Calibration: the fp32 graph with, for every quantizable layer, its input's and output's [min, max]
// as extra outputs, run on sample inputs. Each run's ranges are kept (activation ranges change with
// the diffusion timestep; the bench prints them), and their union is what the int8 graph uses.
import * as g from "../graph/index.ts";
import { CompiledGraph, type HostArray, type SessionOptions } from "../runtime/session.ts";
import { type Range, widen } from "./activation.ts";
import type { ConvRanges } from "./plan.ts";
import { quantizableSites } from "./sites.ts";

export interface CalibrationResult {
  /** Quantizable sites, inputs first. */
  sites: string[];
  /** Per run (in the order of the feeds given): the ranges by site. */
  perRun: Map<string, ConvRanges>[];
  /** The union over all runs. */
  ranges: Map<string, ConvRanges>;
  /** Per run: the graph's own outputs (the fp32 reference for measuring int8's error). */
  outputs: Record<string, HostArray>[];
}

/** The graph's outputs plus `range.in.<k>` and `range.out.<k>` for the k-th site. */
export function calibrationOutputs(outputs: Record<string, g.Tensor>): {
  sites: string[];
  outputs: Record<string, g.Tensor>;
} {
  const sites = quantizableSites(Object.values(outputs));
  const extra: Record<string, g.Tensor> = {};
  sites.forEach((site, k) => {
    extra[`range.in.${k}`] = g.valueRange(site.input);
    extra[`range.out.${k}`] = g.valueRange(site.tensor);
  });
  return { sites: sites.map((s) => s.name), outputs: { ...outputs, ...extra } };
}

/** Runs the calibration graph of `outputs` once per feed set. */
export async function calibrate(
  outputs: Record<string, g.Tensor>,
  feeds: readonly Record<string, HostArray>[],
  session: SessionOptions = {},
): Promise<CalibrationResult> {
  const built = calibrationOutputs(outputs);
  const graph = await CompiledGraph.compile(built.outputs, { ...session, params: "initializers" });
  const perRun: Map<string, ConvRanges>[] = [];
  const ranges = new Map<string, ConvRanges>();
  const results: Record<string, HostArray>[] = [];
  try {
    for (const feed of feeds) {
      const out = await graph.run(feed);
      const run = new Map<string, ConvRanges>();
      built.sites.forEach((site, k) => {
        const input = out[`range.in.${k}`] as Float32Array;
        const output = out[`range.out.${k}`] as Float32Array;
        const r: ConvRanges = { input: [input[0]!, input[1]!], output: [output[0]!, output[1]!] };
        run.set(site, r);
        const known = ranges.get(site);
        ranges.set(site, { input: widen(known?.input, r.input), output: widen(known?.output, r.output) });
      });
      perRun.push(run);
      results.push(Object.fromEntries(Object.keys(outputs).map((name) => [name, out[name]!])));
    }
  } finally {
    await graph.release();
  }
  return { sites: built.sites, perRun, ranges, outputs: results };
}

/** The largest |value| of a range. */
export function magnitude(r: Range): number {
  return Math.max(Math.abs(r[0]), Math.abs(r[1]));
}
