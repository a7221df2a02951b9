// The text encoder's outputs for a batch: each distinct caption is encoded once, and its features
// are repeated for every row of the U-Net batch that uses it.

import type { GlideModel } from "../glide/model.ts";
import { tokenizeCaption } from "../glide/tokenizer.ts";
import type { HostArray, SessionOptions } from "../runtime/session.ts";
import { sessionsOf } from "./sessions.ts";

/** Per-row text inputs of the U-Net (`xf_proj`, `xf_out`); empty for a model without text. */
export type TextFeeds = Record<string, Float32Array>;

/**
 * Encodes `captions` and lays their features out for a U-Net batch whose row i uses caption
 * `captionOfRow[i]`.
 */
export async function textFeeds(
  model: GlideModel,
  captions: readonly string[],
  captionOfRow: readonly number[],
  sessionOptions: SessionOptions = {},
): Promise<TextFeeds> {
  if (!model.textEncoder) return {};
  const ctx = model.config.text_ctx;
  const tokens = new BigInt64Array(captions.length * ctx);
  const mask = new Uint8Array(captions.length * ctx);
  captions.forEach((caption, k) => {
    const encoded = tokenizeCaption(caption, ctx);
    encoded.tokens.forEach((id, j) => {
      tokens[k * ctx + j] = BigInt(id);
    });
    encoded.mask.forEach((m, j) => {
      mask[k * ctx + j] = m ? 1 : 0;
    });
  });
  const session = await sessionsOf(model).textEncoder(captions.length, sessionOptions);
  const feeds: Record<string, HostArray> = { tokens };
  if (session.inputs.some((v) => v.name === "mask")) feeds.mask = mask;
  const out = await session.run(feeds);
  return {
    xf_proj: repeatRows(out.xf_proj as Float32Array, captions.length, captionOfRow),
    xf_out: repeatRows(out.xf_out as Float32Array, captions.length, captionOfRow),
  };
}

/** A batch whose row i is row `pick[i]` of `data` (which holds `rows` equal rows). */
export function repeatRows(data: Float32Array, rows: number, pick: readonly number[]): Float32Array {
  const size = data.length / rows;
  if (!Number.isInteger(size)) throw new RangeError(`${data.length} values do not split into ${rows} rows`);
  const out = new Float32Array(pick.length * size);
  pick.forEach((row, i) => {
    if (!(row >= 0 && row < rows)) throw new RangeError(`row ${row} is outside [0, ${rows})`);
    out.set(data.subarray(row * size, (row + 1) * size), i * size);
  });
  return out;
}
