// The int8 network's drift at its output: the relative L2 error of the predicted noise (the first
// three output channels, what the samplers use) against the fp32 network on the same inputs.
import type { CompiledGraph, HostArray } from "../runtime/session.ts";

/** ‖b − a‖ / ‖a‖ over the first `channels` channels of two [N, C, H, W] tensors. */
export function relativeError(a: Float32Array, b: Float32Array, shape: readonly number[], channels = 3): number {
  const [n, c, h, w] = shape as [number, number, number, number];
  const plane = h * w;
  let error = 0;
  let signal = 0;
  for (let s = 0; s < n; s++) {
    const start = s * c * plane;
    for (let i = start; i < start + Math.min(channels, c) * plane; i++) {
      error += (a[i]! - b[i]!) ** 2;
      signal += a[i]! ** 2;
    }
  }
  return signal > 0 ? Math.sqrt(error / signal) : Math.sqrt(error);
}

/** The `out` of a graph for each feed set. */
export async function outputsOf(
  graph: CompiledGraph,
  feeds: readonly Record<string, HostArray>[],
): Promise<Float32Array[]> {
  const outs: Float32Array[] = [];
  for (const feed of feeds) outs.push((await graph.run(feed)).out as Float32Array);
  return outs;
}

/** The mean relative error of `graph`'s outputs against `reference` outputs of the same feeds. */
export async function meanOutputError(
  graph: CompiledGraph,
  feeds: readonly Record<string, HostArray>[],
  reference: readonly Float32Array[],
): Promise<number> {
  const outs = await outputsOf(graph, feeds);
  const shape = graph.outputs.find((v) => v.name === "out")!.shape;
  return outs.reduce((sum, out, i) => sum + relativeError(reference[i]!, out, shape), 0) / outs.length;
}
