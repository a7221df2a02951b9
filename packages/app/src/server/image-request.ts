// The fields of an images request, checked: OpenAI's (prompt, n, size, response_format, model,
// user, stream, partial_images) and GLIDE's own optional knobs (guidance, steps, sampler, seed,
// upsample, strength). JSON bodies must have the right types; multipart fields are text.
import { SAMPLER_NAMES } from "glide-ts";
import { MAX_GUIDANCE, unencodableText } from "glide-ts/internals";
import { ApiError, invalidField } from "./errors.ts";
import type { JobKind } from "./image-job.ts";
import type { StageSizes } from "./worker-pool.ts";

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

export interface RequestLimits {
  /** Characters of a prompt. */
  maxPromptChars: number;
  /** Images per request. */
  maxN: number;
}

export interface ImageRequest {
  prompt: string;
  n: number;
  size: string | null;
  responseFormat: "b64_json" | "url";
  model: string | null;
  stream: boolean;
  /** Partial images a stream carries per stage. */
  partialImages: number;
  seed?: number;
  sampler?: string;
  steps?: number | string;
  guidance?: number;
  upsample?: boolean;
  strength?: number;
}

const DEFAULT_PARTIAL_IMAGES = 3;
const MAX_PARTIAL_IMAGES = 10;

/** Reads fields of one body: `typed` for JSON (values as sent), else multipart text. */
class Fields {
  constructor(
    private readonly values: Record<string, unknown>,
    private readonly typed: boolean,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined && this.values[name] !== null;
  }

  string(name: string): string | undefined {
    if (!this.has(name)) return undefined;
    const value = this.values[name];
    if (typeof value !== "string")
      throw invalidField(name, `${name} must be a string, got ${kind(value)}`, "invalid_type");
    return value;
  }

  number(name: string): number | undefined {
    if (!this.has(name)) return undefined;
    const value = this.values[name];
    // Form fields are text: plain decimal numbers only ("0x4", "1e2 " and "" are not numbers here).
    const parsed =
      this.typed || typeof value !== "string" ? value : DECIMAL.test(value.trim()) ? Number(value) : Number.NaN;
    if (typeof parsed !== "number" || !Number.isFinite(parsed)) {
      throw invalidField(name, `${name} must be a number, got ${kind(value)}`, "invalid_type");
    }
    return parsed;
  }

  /** A number within [min, max]. */
  bounded(name: string, min: number, max: number): number | undefined {
    const value = this.number(name);
    if (value !== undefined && !(value >= min && value <= max)) {
      throw invalidField(name, `${name} must be from ${min} to ${max}, got ${value}`);
    }
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.number(name);
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalidField(name, `${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const value = this.values[name];
    if (typeof value === "boolean") return value;
    if (!this.typed && (value === "true" || value === "false")) return value === "true";
    throw invalidField(name, `${name} must be true or false, got ${kind(value)}`, "invalid_type");
  }

  oneOf<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(choices as readonly string[]).includes(value)) {
      throw invalidField(name, `${name} must be one of ${choices.join(", ")}, got '${value}'`);
    }
    return value as T;
  }
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "string" ? `'${value.slice(0, 40)}'` : typeof value;
}

export function parseImageRequest(
  jobKind: JobKind,
  values: Record<string, unknown>,
  typed: boolean,
  limits: RequestLimits,
): ImageRequest {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new ApiError(400, "the body must be a JSON object (Content-Type: application/json)", {
      param: "body",
      code: "invalid_body",
    });
  }
  const fields = new Fields(values, typed);
  // OpenAI's variations take no prompt; GLIDE may still be given one.
  const prompt = fields.string("prompt") ?? (jobKind === "variation" ? "" : undefined);
  if (prompt === undefined || (jobKind !== "variation" && prompt.trim() === "")) {
    throw invalidField("prompt", "prompt is required", "missing_required_parameter");
  }
  const unreadable = unencodableText(prompt);
  if (unreadable !== null) throw invalidField("prompt", `prompt cannot be read: ${unreadable}`, "invalid_value");
  if (prompt.length > limits.maxPromptChars) {
    throw invalidField(
      "prompt",
      `prompt is ${prompt.length} characters long; this server takes up to ${limits.maxPromptChars}`,
      "prompt_too_long",
    );
  }
  fields.string("user"); // accepted (OpenAI's end-user id), not used
  const outputFormat = fields.string("output_format");
  if (outputFormat !== undefined && outputFormat !== "png") {
    throw invalidField("output_format", `this server writes PNG only; got output_format '${outputFormat}'`);
  }
  const stream = fields.boolean("stream") ?? false;
  return {
    prompt,
    n: fields.integer("n", 1, limits.maxN) ?? 1,
    size: fields.string("size") ?? null,
    responseFormat: fields.oneOf("response_format", ["b64_json", "url"] as const) ?? "b64_json",
    model: fields.string("model") ?? null,
    stream,
    partialImages: fields.integer("partial_images", 0, MAX_PARTIAL_IMAGES) ?? DEFAULT_PARTIAL_IMAGES,
    // Any seed the CLI takes: image i of a run uses seed + i, which may pass 2^32.
    seed: fields.integer("seed", 0, Number.MAX_SAFE_INTEGER),
    sampler: fields.oneOf("sampler", SAMPLER_NAMES),
    steps: steps(fields, values.steps),
    guidance: fields.bounded("guidance", -MAX_GUIDANCE, MAX_GUIDANCE),
    upsample: fields.boolean("upsample"),
    strength: jobKind === "variation" ? strength(fields) : undefined,
  };
}

function strength(fields: Fields): number | undefined {
  const value = fields.number("strength");
  if (value !== undefined && !(value > 0 && value <= 1)) {
    throw invalidField("strength", `strength must be a number in (0, 1], got ${value}`);
  }
  return value;
}

/** A step count, or a respacing such as "fast27" (the pipelines check it against the model). */
function steps(fields: Fields, value: unknown): number | string | undefined {
  if (!fields.has("steps")) return undefined;
  if (typeof value === "string" && !/^\s*\d+\s*$/.test(value)) return value;
  return fields.integer("steps", 1, 10_000);
}

/** Whether the job upsamples, from `size` and `upsample`; the sizes the model makes are named in errors. */
export function resolveSize(request: ImageRequest, sizes: StageSizes): { upsample: boolean; side: number } {
  const made = [sizes.base, ...(sizes.upsampled !== null && sizes.upsampled !== sizes.base ? [sizes.upsampled] : [])];
  const named = `${made.map((s) => `${s}x${s}`).join(", ")} or auto`;
  const upsampled = (upsample: boolean) => ({ upsample, side: upsample ? sizes.upsampled! : sizes.base });
  if (request.upsample === true && sizes.upsampled === null) {
    throw invalidField("upsample", "this server has no upsampler; leave upsample out or false");
  }
  if (request.size === null || request.size === "auto") return upsampled(request.upsample ?? sizes.upsampled !== null);
  const match = /^(\d+)x(\d+)$/.exec(request.size);
  const side = match && match[1] === match[2] ? Number(match[1]) : null;
  if (side === null || !made.includes(side)) {
    throw invalidField("size", `size must be one of ${named} (what this model makes), got '${request.size}'`);
  }
  if (side === sizes.upsampled && side !== sizes.base) {
    if (request.upsample === false) throw invalidField("upsample", `size ${request.size} needs the upsampler`);
    return upsampled(true);
  }
  if (side === sizes.upsampled) return upsampled(request.upsample ?? true);
  if (request.upsample === true)
    throw invalidField("upsample", `size ${request.size} is the base model's, without upsampling`);
  return upsampled(false);
}
