// GLIDE's configuration, with the reference's keyword names (the arguments of
// `create_model_and_diffusion`), its defaults, validation with one clear message per mistake, and
// the derived U-Net structure (channel multipliers, attention downsample rates, input channels).
import { GlideError } from "../errors.ts";

/** The keyword arguments of the reference `create_model_and_diffusion`. */
export interface GlideConfig {
  image_size: number;
  num_channels: number;
  num_res_blocks: number;
  /** Comma-separated multipliers per level ("1,2,3,4"), or "" for the reference default of the image size. */
  channel_mult: string;
  num_heads: number;
  /** Channels per attention head; −1 to use `num_heads` instead. */
  num_head_channels: number;
  /** Heads of the decoder's attention when `num_head_channels` is −1; −1 means `num_heads`. */
  num_heads_upsample: number;
  /** Comma-separated resolutions (in pixels) at which the U-Net attends ("32,16,8"). */
  attention_resolutions: string;
  /** Dropout in the ResBlocks; active only in graphs built with dropout noise (training). */
  dropout: number;
  text_ctx: number;
  /** Text transformer width; 0 builds a model without text conditioning. */
  xf_width: number;
  xf_layers: number;
  xf_heads: number;
  xf_final_ln: boolean;
  xf_padding: boolean;
  /**
   * Which text position feeds `transformer_proj` (joined to the timestep embedding). "position":
   * the last position, as GLIDE does (padding for captions shorter than text_ctx). "token" (our
   * extension, needs xf_padding): the caption's last token, or the last position for an empty
   * caption. Not in the reference: its configurations, and the released models, use "position".
   */
  xf_pool: XfPool;
  diffusion_steps: number;
  noise_schedule: string;
  timestep_respacing: string;
  use_scale_shift_norm: boolean;
  resblock_updown: boolean;
  /** Carried for compatibility; this implementation always computes in float32. */
  use_fp16: boolean;
  /** Carried for compatibility; the text encoder is a separate graph, run once per prompt batch anyway. */
  cache_text_emb: boolean;
  inpaint: boolean;
  super_res: boolean;
  /**
   * Two more input channels holding each pixel's x and y (−1 … 1), so that convolutions know where
   * they are: what place words ("on the left") need. Our extension, off in the reference's
   * configurations and the released models.
   */
  coord_input: boolean;
  /**
   * Each residual block's FiLM also shifts every channel by amounts read from the timestep-and-caption
   * embedding times the pixel's x and y (−1 … 1): a place word can move what is drawn at first order,
   * as a colour word shifts a channel everywhere. Its weights start at zero (the same function). Our
   * extension, off in the reference's configurations and the released models.
   */
  coord_shift: boolean;
}

export const XF_POOLS = ["position", "token", "mean"] as const;
export type XfPool = (typeof XF_POOLS)[number];

/** GPT-2 BPE vocabulary size (the reference tokenizer's n_vocab). */
export const N_VOCAB = 50257;

/** The four network variants the reference builds from `inpaint` and `super_res`. */
export type GlideVariant = "text2im" | "inpaint" | "super-res" | "super-res-inpaint";

/** A configuration the reference would reject, or a key it does not know. */
export class GlideConfigError extends GlideError {
  override name = "GlideConfigError";
}

/** The reference `model_and_diffusion_defaults()` (the base 64×64 model). */
export function modelAndDiffusionDefaults(): GlideConfig {
  return {
    image_size: 64,
    num_channels: 192,
    num_res_blocks: 3,
    channel_mult: "",
    num_heads: 1,
    num_head_channels: 64,
    num_heads_upsample: -1,
    attention_resolutions: "32,16,8",
    dropout: 0.1,
    text_ctx: 128,
    xf_width: 512,
    xf_layers: 16,
    xf_heads: 8,
    xf_final_ln: true,
    xf_padding: true,
    xf_pool: "position",
    diffusion_steps: 1000,
    noise_schedule: "squaredcos_cap_v2",
    timestep_respacing: "",
    use_scale_shift_norm: true,
    resblock_updown: true,
    use_fp16: true,
    cache_text_emb: false,
    inpaint: false,
    super_res: false,
    coord_input: false,
    coord_shift: false,
  };
}

/** The reference `model_and_diffusion_defaults_upsampler()` (the 64→256 upsampler). */
export function modelAndDiffusionDefaultsUpsampler(): GlideConfig {
  return {
    ...modelAndDiffusionDefaults(),
    image_size: 256,
    num_res_blocks: 2,
    noise_schedule: "linear",
    super_res: true,
  };
}

const INTEGER_KEYS = [
  "image_size",
  "num_channels",
  "num_res_blocks",
  "num_heads",
  "num_head_channels",
  "num_heads_upsample",
  "text_ctx",
  "xf_width",
  "xf_layers",
  "xf_heads",
  "diffusion_steps",
] as const;
/**
 * The largest value each integer key may take: every released GLIDE model and preset is far inside,
 * and a configuration read from a file (a checkpoint's metadata) cannot ask for a network or a
 * diffusion that exhausts memory before anything is built.
 */
export const CONFIG_MAXIMA: Record<(typeof INTEGER_KEYS)[number], number> = {
  image_size: 1024,
  num_channels: 1024,
  num_res_blocks: 16,
  num_heads: 128,
  num_head_channels: 1024,
  num_heads_upsample: 128,
  text_ctx: 1024,
  xf_width: 4096,
  xf_layers: 64,
  xf_heads: 128,
  diffusion_steps: 10000,
};
/** The most channels a level may have relative to num_channels (channel_mult entries). */
export const MAX_CHANNEL_MULT = 16;
/** The most parameters a configuration may imply (the released models have ~0.4 billion). */
export const MAX_PARAMETERS = 4e9;
/**
 * The most values the largest tensor of one picture's forward pass may hold: 2²⁸ float32 values,
 * 1 GiB. The released upsampler's largest (its 256×256 level) holds 12.6 million; the limit is what
 * keeps a small file from asking for attention over a 1024×1024 level (4 TB), which the maxima
 * above, each within reason, would allow together.
 */
export const MAX_ACTIVATION_VALUES = 2 ** 28;
/** How many offending keys one error names. */
const LISTED_KEYS = 3;

const BOOLEAN_KEYS = [
  "xf_final_ln",
  "xf_padding",
  "use_scale_shift_norm",
  "resblock_updown",
  "use_fp16",
  "cache_text_emb",
  "inpaint",
  "super_res",
  "coord_input",
  "coord_shift",
] as const;
const STRING_KEYS = [
  "channel_mult",
  "attention_resolutions",
  "noise_schedule",
  "timestep_respacing",
  "xf_pool",
] as const;
const CONFIG_KEYS = new Set<string>([...INTEGER_KEYS, ...BOOLEAN_KEYS, ...STRING_KEYS, "dropout"]);

/**
 * Completes `overrides` from `base` (default: the reference defaults) and validates the result:
 * unknown keys, wrong types and values the reference would reject are errors naming the key.
 */
export function resolveConfig(
  overrides: Readonly<Record<string, unknown>> = {},
  base: GlideConfig = modelAndDiffusionDefaults(),
): GlideConfig {
  checkKnownKeys(Object.keys(overrides));
  const config = { ...base, ...overrides } as GlideConfig;
  validateConfig(config);
  return config;
}

/**
 * A configuration read back from a file (a checkpoint's metadata): keys added to GlideConfig after
 * the file was written take their defaults, which are the behaviour the file was trained with.
 */
export function storedConfig(raw: Readonly<Record<string, unknown>>): GlideConfig {
  return resolveConfig(
    raw,
    raw.super_res === true ? modelAndDiffusionDefaultsUpsampler() : modelAndDiffusionDefaults(),
  );
}

/** Whether two complete configurations agree on every key (in any key order). */
export function sameConfig(a: GlideConfig, b: GlideConfig): boolean {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  return [...CONFIG_KEYS].every((key) => left[key] === right[key]);
}

/** A value as an error message shows it: JSON, cut short (a file may hold anything). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The first few of `items` in one line ("a; b; c; and 4 more"). */
function listed(items: readonly string[], separator = "; "): string {
  const more = items.length > LISTED_KEYS ? `${separator}and ${items.length - LISTED_KEYS} more` : "";
  return items.slice(0, LISTED_KEYS).join(separator) + more;
}

function checkKnownKeys(keys: readonly string[]): void {
  const unknown = keys
    .filter((key) => !CONFIG_KEYS.has(key))
    .map((key) => `'${key.length > 40 ? `${key.slice(0, 40)}…` : key}'`);
  if (unknown.length === 1) throw new GlideConfigError(`unknown configuration key ${unknown[0]}`);
  if (unknown.length > 1) throw new GlideConfigError(`unknown configuration keys ${listed(unknown, ", ")}`);
}

/**
 * Throws a GlideConfigError for an invalid complete configuration: the first entry of a wrong type
 * or value, or every key over its ceiling (the first few named, in one line), or a network whose
 * largest tensor would not fit in memory.
 */
export function validateConfig(config: GlideConfig): void {
  const raw = config as unknown as Record<string, unknown>;
  for (const key of CONFIG_KEYS) if (!(key in raw)) throw new GlideConfigError(`configuration key '${key}' is missing`);
  checkKnownKeys(Object.keys(raw));
  for (const key of INTEGER_KEYS) {
    if (!Number.isInteger(raw[key])) throw new GlideConfigError(`${key} must be an integer, got ${shown(raw[key])}`);
  }
  const tooLarge = INTEGER_KEYS.filter((key) => (raw[key] as number) > CONFIG_MAXIMA[key]).map(
    (key) => `${key} must be at most ${CONFIG_MAXIMA[key]}, got ${raw[key]}`,
  );
  if (tooLarge.length > 0) throw new GlideConfigError(listed(tooLarge));
  for (const key of BOOLEAN_KEYS) {
    if (typeof raw[key] !== "boolean")
      throw new GlideConfigError(`${key} must be true or false, got ${shown(raw[key])}`);
  }
  for (const key of STRING_KEYS) {
    if (typeof raw[key] !== "string") throw new GlideConfigError(`${key} must be a string, got ${shown(raw[key])}`);
  }
  if (typeof config.dropout !== "number" || !(config.dropout >= 0 && config.dropout < 1)) {
    throw new GlideConfigError(`dropout must be a number in [0, 1), got ${shown(config.dropout)}`);
  }
  for (const key of ["image_size", "num_channels", "num_res_blocks", "diffusion_steps"] as const) {
    if (config[key] < 1) throw new GlideConfigError(`${key} must be at least 1, got ${config[key]}`);
  }
  if (config.num_head_channels === 0 || config.num_head_channels < -1) {
    throw new GlideConfigError(`num_head_channels must be positive or -1, got ${config.num_head_channels}`);
  }
  if (config.num_head_channels === -1 && config.num_heads < 1) {
    throw new GlideConfigError(`num_heads must be at least 1 when num_head_channels is -1, got ${config.num_heads}`);
  }
  if (config.xf_width < 0)
    throw new GlideConfigError(`xf_width must be 0 (no text) or positive, got ${config.xf_width}`);
  if (config.xf_width > 0) {
    if (config.text_ctx < 1) throw new GlideConfigError(`text_ctx must be at least 1, got ${config.text_ctx}`);
    if (config.xf_layers < 0) throw new GlideConfigError(`xf_layers must not be negative, got ${config.xf_layers}`);
    if (config.xf_heads < 1 || config.xf_width % config.xf_heads !== 0) {
      throw new GlideConfigError(`xf_width ${config.xf_width} must be divisible by xf_heads ${config.xf_heads}`);
    }
  }
  if (!(XF_POOLS as readonly string[]).includes(config.xf_pool)) {
    throw new GlideConfigError(`xf_pool must be one of ${XF_POOLS.join(", ")}, got ${shown(config.xf_pool)}`);
  }
  if (config.xf_pool !== "position" && !config.xf_padding) {
    throw new GlideConfigError(
      `xf_pool '${config.xf_pool}' finds the caption's tokens by the padding mask: it needs xf_padding`,
    );
  }
  const largest = largestActivation(config, unetStructure(config));
  if (largest.values > MAX_ACTIVATION_VALUES) {
    throw new GlideConfigError(
      `the configuration asks for ${largest.what} of ${largest.values.toExponential(2)} values for each picture ` +
        `(${formatGiB(largest.values * 4)} of float32); at most ${MAX_ACTIVATION_VALUES} (1 GiB) are allowed`,
    );
  }
}

function formatGiB(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1024 ? `${(gib / 1024).toPrecision(3)} TiB` : `${gib.toPrecision(3)} GiB`;
}

/**
 * The largest tensor one picture's forward pass makes, estimated from the configuration alone
 * (before anything is built): each level's activations (with the decoder's concatenated skip),
 * each attention's weights (heads × positions × (positions + text tokens)), and the text
 * transformer's attention and MLP.
 */
export function largestActivation(config: GlideConfig, structure: UNetStructure): { values: number; what: string } {
  let largest = { values: 0, what: "" };
  const consider = (values: number, what: string) => {
    if (values > largest.values) largest = { values, what };
  };
  const text = config.xf_width > 0 ? config.text_ctx : 0;
  const levels = structure.channelMult.length;
  structure.channelMult.forEach((mult, level) => {
    const side = config.image_size / 2 ** level;
    const channels = mult * config.num_channels;
    const widest = Math.max(
      channels,
      ...structure.channelMult.slice(level, level + 2).map((m) => m * config.num_channels),
    );
    consider(side * side * (channels + widest), `activations at ${side}×${side}`);
    if (structure.attentionDs.includes(2 ** level) || level === levels - 1) {
      const heads =
        config.num_head_channels === -1
          ? Math.max(config.num_heads, structure.numHeadsUpsample)
          : Math.ceil(channels / config.num_head_channels);
      consider(heads * side * side * (side * side + text), `attention at ${side}×${side}`);
    }
  });
  if (config.xf_width > 0) {
    consider(config.xf_heads * config.text_ctx * config.text_ctx, "text attention");
    consider(4 * config.xf_width * config.text_ctx, "the text transformer's activations");
  }
  return largest;
}

/** What the U-Net is made of, derived from a configuration as the reference's `create_model` does. */
export interface UNetStructure {
  variant: GlideVariant;
  /** Input channels: 3, +3+1 for inpainting (masked image, mask), +3 for super-res (upsampled low-res image), +2 for coord_input. */
  inChannels: number;
  outChannels: number;
  channelMult: number[];
  /** Downsample rates (image_size / resolution) at which blocks attend. */
  attentionDs: number[];
  numHeadsUpsample: number;
}

function parseIntList(key: string, text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((s) => !/^\d{1,6}$/.test(s)) || values.some((v) => v < 1) || parts.length > 16) {
    throw new GlideConfigError(
      `${key} must be a comma-separated list of at most 16 positive integers, got '${text.slice(0, 80)}'`,
    );
  }
  return values;
}

export function variantOf(config: Pick<GlideConfig, "inpaint" | "super_res">): GlideVariant {
  if (config.inpaint && config.super_res) return "super-res-inpaint";
  if (config.inpaint) return "inpaint";
  return config.super_res ? "super-res" : "text2im";
}

export function unetStructure(config: GlideConfig): UNetStructure {
  let channelMult: number[];
  if (config.channel_mult === "") {
    const defaults: Record<number, number[]> = { 256: [1, 1, 2, 2, 4, 4], 128: [1, 1, 2, 3, 4], 64: [1, 2, 3, 4] };
    const found = defaults[config.image_size];
    if (!found) {
      throw new GlideConfigError(
        `image_size ${config.image_size} has no default channel_mult (only 64, 128, 256 do); set channel_mult`,
      );
    }
    channelMult = found;
  } else {
    channelMult = parseIntList("channel_mult", config.channel_mult);
    const tooWide = channelMult.find((m) => m > MAX_CHANNEL_MULT);
    if (tooWide !== undefined) {
      throw new GlideConfigError(`channel_mult entries must be at most ${MAX_CHANNEL_MULT}, got ${tooWide}`);
    }
    if (2 ** (channelMult.length + 2) !== config.image_size) {
      throw new GlideConfigError(
        `channel_mult '${config.channel_mult}' has ${channelMult.length} levels; image_size ${config.image_size} needs ` +
          `log2(image_size) − 2 levels (the reference asserts 2^(levels+2) = image_size)`,
      );
    }
  }
  // "" (which the reference cannot parse) means no attention outside the middle block.
  const resolutions =
    config.attention_resolutions === "" ? [] : parseIntList("attention_resolutions", config.attention_resolutions);
  const attentionDs = resolutions.map((res) => Math.floor(config.image_size / res));
  const inChannels = 3 + (config.inpaint ? 4 : 0) + (config.super_res ? 3 : 0) + (config.coord_input ? 2 : 0);
  return {
    variant: variantOf(config),
    inChannels,
    outChannels: 6,
    channelMult,
    attentionDs,
    numHeadsUpsample: config.num_heads_upsample === -1 ? config.num_heads : config.num_heads_upsample,
  };
}
