// The configuration of a GLIDE checkpoint, read off its parameter names and shapes: the variant
// (from the input convolution's channels), the U-Net's widths, depth, levels and attention
// resolutions, and the text transformer. Attention heads (num_heads, num_head_channels, xf_heads)
// change no parameter shape, so no checkpoint records them; a preset whose shapes match exactly
// supplies them.

import { GlideError } from "../errors.ts";
import {
  CONFIG_MAXIMA,
  type GlideConfig,
  type GlideVariant,
  MAX_CHANNEL_MULT,
  modelAndDiffusionDefaults,
  modelAndDiffusionDefaultsUpsampler,
  N_VOCAB,
} from "./config.ts";
import { parameterShapes } from "./model.ts";
import { PRESET_NAMES, type PresetName, presetConfig } from "./presets.ts";

type Shapes = ReadonlyMap<string, { readonly shape: readonly number[] }>;

/** What the shapes determine, under the reference keyword names. */
export interface InferredConfig {
  variant: GlideVariant;
  /** Input channels of the first convolution: 3 text2im, 7 inpaint, 6 super-res, 10 super-res-inpaint. */
  in_channels: number;
  inpaint: boolean;
  super_res: boolean;
  /** 2^(levels + 2): the reference asserts it for every channel_mult. */
  image_size: number;
  num_channels: number;
  num_res_blocks: number;
  /** Always explicit ("1,2,3,4"), also where the reference's "" default gives the same. */
  channel_mult: string;
  /** Resolutions (pixels) whose levels have attention blocks, largest first; "" for none. */
  attention_resolutions: string;
  use_scale_shift_norm: boolean;
  /** Null for a single-level U-Net (it never resamples). */
  resblock_updown: boolean | null;
  /** 0 for a model without text conditioning; then the other xf_* and text_ctx are 0 / false. */
  xf_width: number;
  text_ctx: number;
  xf_layers: number;
  xf_final_ln: boolean;
  xf_padding: boolean;
}

/** Configuration keys no parameter shape depends on. */
export const NOT_INFERABLE = [
  "num_heads",
  "num_head_channels",
  "num_heads_upsample",
  "xf_heads",
  "dropout",
  "diffusion_steps",
  "noise_schedule",
] as const;

/** Shapes that are not a GLIDE network (or one laid out in a way the reference never builds). */
export class InferConfigError extends GlideError {
  override name = "InferConfigError";
}

const VARIANTS: Record<number, [GlideVariant, boolean, boolean]> = {
  3: ["text2im", false, false],
  7: ["inpaint", true, false],
  6: ["super-res", false, true],
  10: ["super-res-inpaint", true, true],
};

/** What a block of input_blocks / output_blocks holds, by submodule index. */
type Layer = "resblock" | "attention" | "downsample" | "upsample" | "other";

function blockLayers(shapes: Shapes, prefix: string): Map<number, Map<number, Layer>> {
  const blocks = new Map<number, Map<number, Layer>>();
  for (const key of shapes.keys()) {
    const m = new RegExp(`^${prefix}\\.(\\d+)\\.(\\d+)\\.(\\w+)`).exec(key);
    if (!m) continue;
    const [block, sub, part] = [Number(m[1]), Number(m[2]), m[3]!];
    const layer: Layer =
      part === "in_layers" || part === "out_layers" || part === "emb_layers" || part === "skip_connection"
        ? "resblock"
        : part === "qkv" || part === "norm" || part === "proj_out" || part === "encoder_kv"
          ? "attention"
          : part === "op"
            ? "downsample"
            : part === "conv"
              ? "upsample"
              : "other";
    const subs = blocks.get(block) ?? new Map<number, Layer>();
    subs.set(sub, layer);
    blocks.set(block, subs);
  }
  return blocks;
}

function shapeOf(shapes: Shapes, key: string): readonly number[] {
  const t = shapes.get(key);
  if (!t) throw new InferConfigError(`no '${key}': not a GLIDE U-Net state dict`);
  return t.shape;
}

/**
 * Reads the configuration off a state dict's keys and shapes. Throws InferConfigError for shapes
 * that are not a GLIDE network.
 */
export function inferConfig(shapes: Shapes): InferredConfig {
  const inConv = shapeOf(shapes, "input_blocks.0.0.weight");
  if (inConv.length !== 4) throw new InferConfigError(`input_blocks.0.0.weight has shape [${inConv}], expected 4-D`);
  const inChannels = inConv[1]!;
  // The timestep embedding maps num_channels to 4 · num_channels (the input convolution gives
  // channel_mult[0] · num_channels).
  const numChannels = shapeOf(shapes, "time_embed.0.weight")[1]!;
  const variant = VARIANTS[inChannels];
  if (!variant) {
    throw new InferConfigError(
      `the input convolution takes ${inChannels} channels; GLIDE's variants take 3 (text2im), 7 (inpaint), ` +
        "6 (super-res) or 10 (super-res-inpaint)",
    );
  }

  // Output blocks: each level has num_res_blocks + 1 blocks; the last of every level but the
  // outermost ends with an upsampler (a ResBlock with resblock_updown, else an Upsample conv).
  const output = blockLayers(shapes, "output_blocks");
  let outputCount = 0;
  for (const block of output.keys()) outputCount = Math.max(outputCount, block + 1);
  if (outputCount === 0) throw new InferConfigError("no output_blocks: not a GLIDE U-Net state dict");
  const upsampling: number[] = [];
  for (let i = 0; i < outputCount; i++) {
    const subs = output.get(i);
    const extra = [...(subs?.entries() ?? [])].some(([sub, layer]) => sub > 0 && layer !== "attention");
    if (extra) upsampling.push(i);
  }
  const levels = upsampling.length + 1;
  // 2^(levels + 2) is the image size: more levels than the largest one allows are not read on.
  if (2 ** (levels + 2) > CONFIG_MAXIMA.image_size) {
    throw new InferConfigError(
      `output_blocks: ${levels} levels make ${2 ** (levels + 2)}-pixel images; at most ${CONFIG_MAXIMA.image_size} are allowed`,
    );
  }
  const perLevel = outputCount / levels;
  if (!Number.isInteger(perLevel) || upsampling.some((b, k) => b !== (k + 1) * perLevel - 1)) {
    throw new InferConfigError(
      `output_blocks: ${outputCount} blocks with upsamplers at ${upsampling.join(", ")} do not form equal levels`,
    );
  }
  const numResBlocks = perLevel - 1;
  if (numResBlocks < 1) throw new InferConfigError("output_blocks: levels without ResBlocks");

  // Input blocks: block 0 is the input convolution; then per level num_res_blocks blocks and,
  // except at the innermost level, a downsampler.
  const input = blockLayers(shapes, "input_blocks");
  const channelMult: number[] = [];
  const attentionLevels = new Set<number>();
  let resblockUpdown: boolean | null = null;
  let scaleShift: boolean | null = null;
  for (let level = 0; level < levels; level++) {
    for (let j = 0; j < numResBlocks; j++) {
      const block = 1 + level * perLevel + j;
      const prefix = `input_blocks.${block}`;
      const out = shapeOf(shapes, `${prefix}.0.out_layers.3.weight`)[0]!;
      if (j === 0) {
        if (out % numChannels !== 0) {
          throw new InferConfigError(`${prefix}: ${out} channels is not a multiple of num_channels ${numChannels}`);
        }
        channelMult.push(out / numChannels);
      }
      const emb = shapeOf(shapes, `${prefix}.0.emb_layers.1.weight`)[0]!;
      scaleShift ??= emb === 2 * out;
      if (input.get(block)?.get(1) === "attention") attentionLevels.add(level);
    }
    if (level < levels - 1) {
      const down = input.get(1 + level * perLevel + numResBlocks)?.get(0);
      if (down !== "resblock" && down !== "downsample") {
        throw new InferConfigError(`input_blocks: no downsampler after level ${level}`);
      }
      resblockUpdown ??= down === "resblock";
    }
  }
  for (let i = 0; i < outputCount; i++) {
    if (output.get(i)?.get(1) === "attention") attentionLevels.add(levels - 1 - Math.floor(i / perLevel));
  }
  const imageSize = 2 ** (levels + 2);
  const attention = [...attentionLevels].sort((a, b) => a - b).map((level) => imageSize / 2 ** level);

  const token = shapes.get("token_embedding.weight")?.shape;
  const xfWidth = token ? token[1]! : 0;
  if (token && token[0] !== N_VOCAB) {
    throw new InferConfigError(`token_embedding has ${token[0]} rows; GLIDE's vocabulary has ${N_VOCAB}`);
  }
  const layers = new Set<number>();
  for (const key of shapes.keys()) {
    const m = /^transformer\.resblocks\.(\d+)\./.exec(key);
    if (m) layers.add(Number(m[1]));
  }

  const textCtx = xfWidth > 0 ? shapeOf(shapes, "positional_embedding")[0]! : 0;
  const tooLarge = (
    [
      ["num_res_blocks", numResBlocks],
      ["num_channels", numChannels],
      ["xf_width", xfWidth],
      ["text_ctx", textCtx],
      ["xf_layers", layers.size],
    ] as const
  ).filter(([key, value]) => value > CONFIG_MAXIMA[key]);
  const wideLevel = channelMult.find((m) => m > MAX_CHANNEL_MULT);
  if (tooLarge.length > 0 || wideLevel !== undefined) {
    const found = tooLarge.map(([key, value]) => `${key} ${value} (at most ${CONFIG_MAXIMA[key]})`);
    if (wideLevel !== undefined) found.push(`a channel multiplier of ${wideLevel} (at most ${MAX_CHANNEL_MULT})`);
    throw new InferConfigError(
      `the shapes imply ${found.slice(0, 3).join(", ")}${found.length > 3 ? ` and ${found.length - 3} more` : ""}: ` +
        "larger than any configuration allows",
    );
  }

  return {
    variant: variant[0],
    in_channels: inChannels,
    inpaint: variant[1],
    super_res: variant[2],
    image_size: imageSize,
    num_channels: numChannels,
    num_res_blocks: numResBlocks,
    channel_mult: channelMult.join(","),
    attention_resolutions: attention.join(","),
    use_scale_shift_norm: scaleShift ?? true,
    resblock_updown: resblockUpdown,
    xf_width: xfWidth,
    text_ctx: textCtx,
    xf_layers: layers.size,
    xf_final_ln: shapes.has("final_ln.weight"),
    xf_padding: shapes.has("padding_embedding"),
  };
}

/**
 * A complete configuration with the inferred values; the keys no shape records come from the
 * reference defaults (upsampler defaults for super-res variants), with one attention head of all
 * channels (num_head_channels −1, num_heads 1) and one text head, which fit any width. Good for
 * building the parameter shapes; for running the model, take the heads from the model's origin.
 */
export function configFromInferred(inferred: InferredConfig): GlideConfig {
  const base = inferred.super_res ? modelAndDiffusionDefaultsUpsampler() : modelAndDiffusionDefaults();
  return {
    ...base,
    image_size: inferred.image_size,
    num_channels: inferred.num_channels,
    num_res_blocks: inferred.num_res_blocks,
    channel_mult: inferred.channel_mult,
    attention_resolutions: inferred.attention_resolutions,
    num_heads: 1,
    num_head_channels: -1,
    num_heads_upsample: -1,
    use_scale_shift_norm: inferred.use_scale_shift_norm,
    resblock_updown: inferred.resblock_updown ?? base.resblock_updown,
    text_ctx: inferred.text_ctx || base.text_ctx,
    xf_width: inferred.xf_width,
    xf_layers: inferred.xf_layers,
    xf_heads: 1,
    xf_final_ln: inferred.xf_final_ln,
    xf_padding: inferred.xf_padding,
    use_fp16: false,
    inpaint: inferred.inpaint,
    super_res: inferred.super_res,
  };
}

/** How a state dict differs from the shapes of a configuration (empty lists: an exact match). */
export interface ShapeComparison {
  missing: string[];
  unexpected: string[];
  misshaped: string[];
}

export function compareShapes(expected: ReadonlyMap<string, readonly number[]>, actual: Shapes): ShapeComparison {
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const [key, shape] of expected) {
    const t = actual.get(key);
    if (!t) missing.push(key);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) misshaped.push(key);
  }
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
  return { missing, unexpected, misshaped };
}

export function isExactMatch(c: ShapeComparison): boolean {
  return c.missing.length === 0 && c.unexpected.length === 0 && c.misshaped.length === 0;
}

/**
 * The presets whose parameter names and shapes equal the state dict's exactly (built and compared
 * key by key). Presets that differ in an inferred value are skipped without building them.
 */
export function matchingPresets(shapes: Shapes, inferred: InferredConfig): PresetName[] {
  return PRESET_NAMES.filter((name) => {
    const preset = presetConfig(name);
    if (
      preset.num_channels !== inferred.num_channels ||
      preset.inpaint !== inferred.inpaint ||
      preset.super_res !== inferred.super_res ||
      preset.xf_width !== inferred.xf_width ||
      preset.image_size !== inferred.image_size
    ) {
      return false;
    }
    return isExactMatch(compareShapes(parameterShapes(preset), shapes));
  });
}
