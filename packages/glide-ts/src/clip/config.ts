// The noised CLIP's configuration under the keys of the reference `glide_text2im/clip/config.yaml`,
// the released configuration, and validation with one message per mistake.
import { ClipError } from "./errors.ts";

export interface ClipConfig {
  /** The logit scale itself (100); the model keeps its float32 logarithm and uses exp of that. */
  logit_scale: number;
  beta_schedule: string;
  /** Rows of the image tower's timestep table `w_t` (the diffusion's steps). */
  n_timesteps: number;
  image_size: number;
  patch_size: number;
  /** Rows of the text tower's token table (may exceed the tokenizer's 49,408). */
  n_vocab: number;
  max_text_len: number;
  /** Width of the shared embedding space. */
  n_embd: number;
  n_head_state_text: number;
  n_head_text: number;
  n_xf_blocks_text: number;
  n_head_state_image: number;
  n_head_image: number;
  n_xf_blocks_image: number;
}

/** The configuration of the released `clip/image-enc` and `clip/text-enc`. */
export function releasedClipConfig(): ClipConfig {
  return {
    logit_scale: 100,
    beta_schedule: "squaredcos_cap_v2",
    n_timesteps: 1000,
    image_size: 64,
    patch_size: 4,
    n_vocab: 65536,
    max_text_len: 77,
    n_embd: 512,
    n_head_state_text: 64,
    n_head_text: 8,
    n_xf_blocks_text: 12,
    n_head_state_image: 64,
    n_head_image: 12,
    n_xf_blocks_image: 12,
  };
}

const POSITIVE_INTEGER_KEYS = [
  "n_timesteps",
  "image_size",
  "patch_size",
  "n_vocab",
  "max_text_len",
  "n_embd",
  "n_head_state_text",
  "n_head_text",
  "n_head_state_image",
  "n_head_image",
] as const;
const COUNT_KEYS = ["n_xf_blocks_text", "n_xf_blocks_image"] as const;
/**
 * The largest value each integer key may take: the released configuration is far inside, and a
 * configuration file cannot ask for a network that exhausts memory before anything is built.
 */
export const CLIP_CONFIG_MAXIMA: Record<(typeof POSITIVE_INTEGER_KEYS)[number] | (typeof COUNT_KEYS)[number], number> =
  {
    n_timesteps: 10000,
    image_size: 1024,
    patch_size: 1024,
    n_vocab: 1 << 20,
    max_text_len: 1024,
    n_embd: 4096,
    n_head_state_text: 1024,
    n_head_text: 128,
    n_head_state_image: 1024,
    n_head_image: 128,
    n_xf_blocks_text: 64,
    n_xf_blocks_image: 64,
  };
/** The most attention weights one input may need (heads × positions²): 2²⁸ float32 values, 1 GiB. */
export const MAX_CLIP_ATTENTION_VALUES = 2 ** 28;
const CONFIG_KEYS = new Set<string>([...POSITIVE_INTEGER_KEYS, ...COUNT_KEYS, "logit_scale", "beta_schedule"]);

/** `overrides` completed from `base` (default: the released configuration) and validated. */
export function resolveClipConfig(
  overrides: Readonly<Record<string, unknown>> = {},
  base: ClipConfig = releasedClipConfig(),
): ClipConfig {
  for (const key of Object.keys(overrides)) {
    if (!CONFIG_KEYS.has(key))
      throw new ClipError(`unknown CLIP configuration key '${key.length > 40 ? `${key.slice(0, 40)}…` : key}'`);
  }
  const config = { ...base, ...overrides } as ClipConfig;
  validateClipConfig(config);
  return config;
}

/** A value as an error message shows it: JSON, cut short (a file may hold anything). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function validateClipConfig(config: ClipConfig): void {
  const raw = config as unknown as Record<string, unknown>;
  for (const key of POSITIVE_INTEGER_KEYS) {
    const v = raw[key];
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new ClipError(`CLIP ${key} must be a positive integer, got ${shown(v)}`);
    }
  }
  for (const key of COUNT_KEYS) {
    const v = raw[key];
    if (!Number.isInteger(v) || (v as number) < 0) {
      throw new ClipError(`CLIP ${key} must be a non-negative integer, got ${shown(v)}`);
    }
  }
  const tooLarge = Object.entries(CLIP_CONFIG_MAXIMA)
    .filter(([key, most]) => (raw[key] as number) > most)
    .map(([key, most]) => `CLIP ${key} must be at most ${most}, got ${raw[key]}`);
  if (tooLarge.length > 0) {
    const more = tooLarge.length > 3 ? `; and ${tooLarge.length - 3} more` : "";
    throw new ClipError(tooLarge.slice(0, 3).join("; ") + more);
  }
  if (typeof config.logit_scale !== "number" || !(config.logit_scale > 0 && config.logit_scale < Infinity)) {
    throw new ClipError(`CLIP logit_scale must be a positive number, got ${shown(config.logit_scale)}`);
  }
  if (typeof config.beta_schedule !== "string") {
    throw new ClipError(`CLIP beta_schedule must be a string, got ${shown(config.beta_schedule)}`);
  }
  if (config.image_size % config.patch_size !== 0) {
    throw new ClipError(`CLIP image_size ${config.image_size} is not a multiple of patch_size ${config.patch_size}`);
  }
  if (config.max_text_len < 2) {
    throw new ClipError(`CLIP max_text_len must be at least 2 (start and end tokens), got ${config.max_text_len}`);
  }
  // The image tower attends over the patch grid and the timestep token, the text tower over the text.
  const patches = (config.image_size / config.patch_size) ** 2 + 1;
  const attention = Math.max(
    config.n_head_image * patches * patches,
    config.n_head_text * config.max_text_len * config.max_text_len,
  );
  if (attention > MAX_CLIP_ATTENTION_VALUES) {
    throw new ClipError(
      `the CLIP configuration asks for ${attention.toExponential(2)} attention weights for each input ` +
        `(${((attention * 4) / 2 ** 30).toPrecision(3)} GiB of float32); at most ${MAX_CLIP_ATTENTION_VALUES} (1 GiB) are allowed`,
    );
  }
}

/** exp(float32(log(logit_scale))) in float32, as the reference computes it (100.00000762939453 for 100). */
export function expLogitScale(config: Pick<ClipConfig, "logit_scale">): number {
  return Math.fround(Math.exp(Math.fround(Math.log(config.logit_scale))));
}
