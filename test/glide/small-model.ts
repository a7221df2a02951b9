// A 16×16 text2im configuration small enough for graph-level tests of our U-Net extensions, and its
// weights with a little noise on every value (GLIDE's zero-initialized convs would hide differences).
import type { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../../packages/glide-ts/src/glide/presets.ts";
import type { Rng } from "../../packages/glide-ts/src/util/rng.ts";

export const SMALL_TEXT2IM = {
  ...presetConfig("tiny"),
  image_size: 16,
  channel_mult: "1,2",
  attention_resolutions: "8",
  num_channels: 32,
  num_head_channels: 16,
  xf_width: 32,
  xf_heads: 2,
  text_ctx: 8,
};

export type Weights = Map<string, { data: Float32Array; shape: number[] }>;

export function noisyWeights(model: GlideModel, rng: Rng): Weights {
  const weights: Weights = new Map();
  for (const [name, t] of model.params.params) {
    const value = (t.attrs as { value: Float32Array }).value.map((v) => v + (rng.uniform() - 0.5) * 0.1);
    weights.set(name, { data: value, shape: [...t.shape] });
  }
  return weights;
}

/** Random U-Net inputs for a batch of two (t = 10 and 700) of SMALL_TEXT2IM's shape. */
export function smallUNetFeeds(rng: Rng): Record<string, Float32Array> {
  const { image_size: size, num_channels: channels, xf_width: width, text_ctx: ctx } = SMALL_TEXT2IM;
  return {
    x: Float32Array.from({ length: 2 * 3 * size * size }, () => rng.uniform() * 2 - 1),
    timesteps: Float32Array.from([10, 700]),
    xf_proj: Float32Array.from({ length: 2 * 4 * channels }, () => rng.uniform() - 0.5),
    xf_out: Float32Array.from({ length: 2 * width * ctx }, () => rng.uniform() - 0.5),
  };
}
