// Named configurations: the four released GLIDE (filtered) models, and small models sized for
// training on a CPU. Sizes (checked by test/glide/presets.test.ts); GFLOP counts conv and matmul
// FLOPs of one forward at batch 1 (a guided sampling step runs batch 2: twice that):
//
// | preset           | image    | params  | U-Net GFLOP | + text encoder |
// | ---------------- | -------- | ------- | ----------- | -------------- |
// | base             | 64       | 385.0 M | 224.9       | 238.3          |
// | base-inpaint     | 64       | 385.0 M | 224.9       | 238.4          |
// | upsample         | 64 → 256 | 398.4 M | 1267.7      | 1281.1         |
// | upsample-inpaint | 64 → 256 | 398.4 M | 1268.6      | 1282.0         |
// | small            | 64       | 42.5 M  | 17.95       | 18.37          |
// | small-upsample   | 64 → 256 | 12.9 M  | 24.74       | 24.79          |
// | tiny             | 32       | 12.8 M  | 2.64        | 2.66           |
// | tiny-upsample    | 32 → 128 | 10.7 M  | 6.19        | 6.21           |
//
// In the small presets the GPT-2 token embedding (50257 × xf_width) holds 30–60 % of the
// parameters, but costs no FLOPs (a row lookup).
import {
  type GlideConfig,
  GlideConfigError,
  modelAndDiffusionDefaults,
  modelAndDiffusionDefaultsUpsampler,
  resolveConfig,
} from "./config.ts";

// The released models compute in float32 here; use_fp16 is false as in the fixtures' official configs.
const base = (): GlideConfig => ({ ...modelAndDiffusionDefaults(), use_fp16: false });
const upsample = (): GlideConfig => ({ ...modelAndDiffusionDefaultsUpsampler(), use_fp16: false });

/** Small models: a narrower U-Net and a short, narrow text transformer (GPT-2 BPE vocabulary kept). */
const small = (): GlideConfig => ({
  ...base(),
  num_channels: 64,
  num_res_blocks: 2,
  channel_mult: "1,2,3,4",
  attention_resolutions: "16,8",
  num_head_channels: 32,
  text_ctx: 64,
  xf_width: 256,
  xf_layers: 4,
  xf_heads: 4,
});
const smallUpsample = (): GlideConfig => ({
  ...upsample(),
  num_channels: 32,
  num_res_blocks: 1,
  channel_mult: "1,1,2,2,4,4",
  attention_resolutions: "16",
  num_head_channels: 32,
  text_ctx: 64,
  xf_width: 128,
  xf_layers: 2,
  xf_heads: 4,
});
const tiny = (): GlideConfig => ({
  ...base(),
  image_size: 32,
  num_channels: 64,
  num_res_blocks: 1,
  channel_mult: "1,2,2",
  attention_resolutions: "16,8",
  num_head_channels: 32,
  text_ctx: 32,
  xf_width: 128,
  xf_layers: 2,
  xf_heads: 4,
});
const tinyUpsample = (): GlideConfig => ({
  ...upsample(),
  image_size: 128,
  num_channels: 32,
  num_res_blocks: 1,
  channel_mult: "1,1,2,2,4",
  attention_resolutions: "16",
  num_head_channels: 32,
  text_ctx: 32,
  xf_width: 128,
  xf_layers: 2,
  xf_heads: 4,
});

const PRESETS = {
  base,
  upsample,
  "base-inpaint": () => ({ ...base(), inpaint: true }),
  "upsample-inpaint": () => ({ ...upsample(), inpaint: true }),
  small,
  "small-upsample": smallUpsample,
  tiny,
  "tiny-upsample": tinyUpsample,
} satisfies Record<string, () => GlideConfig>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The preset's configuration, with `overrides` (reference keyword names) applied and validated. */
export function presetConfig(name: string, overrides: Readonly<Record<string, unknown>> = {}): GlideConfig {
  const make = (PRESETS as Record<string, () => GlideConfig>)[name];
  if (!make) throw new GlideConfigError(`unknown preset '${name}' (known: ${PRESET_NAMES.join(", ")})`);
  return resolveConfig(overrides, make());
}
