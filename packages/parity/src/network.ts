// Running a GLIDE model's two graphs on fixture inputs: the text encoder once per batch, then the
// U-Net with whatever extra inputs its variant takes.

import type { GlideModel, SessionOptions } from "glide-ts";
import type { CompiledGraph, HostArray, SafetensorsFile } from "glide-ts/internals";
import { ParityCaseError } from "./types.ts";

/** The U-Net inputs beyond x, timesteps and text that some variants take, as the fixtures name them. */
export const VARIANT_INPUTS = ["inpaint_image", "inpaint_mask", "low_res"] as const;

/** An integer tensor of a fixture file as int64 (token ids). */
export function int64Of(file: SafetensorsFile, name: string): BigInt64Array {
  const t = file.get(name);
  if (t.data instanceof BigInt64Array) return t.data;
  if (t.dtype.startsWith("F") || t.dtype === "BF16") {
    throw new ParityCaseError(`${file.source}: '${name}' is ${t.dtype}, expected integers`);
  }
  return BigInt64Array.from(t.data as ArrayLike<number>, (v) => BigInt(v));
}

/** A boolean (or 0/1) tensor of a fixture file as bytes (text masks). */
export function boolOf(file: SafetensorsFile, name: string): Uint8Array {
  const t = file.get(name);
  if (t.dtype === "BOOL" || t.dtype === "U8") return t.data as Uint8Array;
  return Uint8Array.from(file.float32(name), (v) => (v !== 0 ? 1 : 0));
}

export interface TextFeatures {
  xf_proj?: Float32Array;
  xf_out?: Float32Array;
}

/** The text encoder's outputs for a batch of token rows (nothing for a model without text). */
export async function encodeText(
  model: GlideModel,
  tokens: BigInt64Array,
  mask: Uint8Array,
  batch: number,
  session: SessionOptions,
): Promise<TextFeatures> {
  if (!model.textEncoder) return {};
  const graph = await model.compileTextEncoder(batch, session);
  try {
    const out = await graph.run(feedsFor(graph, { tokens, mask }));
    return { xf_proj: out.xf_proj as Float32Array, xf_out: out.xf_out as Float32Array };
  } finally {
    await graph.release();
  }
}

/** Exactly the inputs `graph` takes, picked from `available`; a missing one is an error naming it. */
export function feedsFor(
  graph: CompiledGraph,
  available: Record<string, HostArray | undefined>,
): Record<string, HostArray> {
  const feeds: Record<string, HostArray> = {};
  for (const { name } of graph.inputs) {
    const value = available[name];
    if (!value) throw new ParityCaseError(`the graph needs input '${name}', which the case does not provide`);
    feeds[name] = value;
  }
  return feeds;
}
