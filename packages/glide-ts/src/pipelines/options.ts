// Checks of the options every pipeline shares, each failing with one message that names the option.

import { spaceTimesteps } from "../diffusion/respace.ts";
import { SAMPLER_NAMES, type SamplerName, type SamplerSpec } from "../diffusion/samplers/index.ts";
import type { GlideModel } from "../glide/model.ts";
import { PRECISIONS, type Precision } from "../int8/plan.ts";
import { checkOneOf, checkPositive } from "../validate.ts";
import { PipelineError } from "./errors.ts";

/**
 * A sampler by name and a step count: a positive integer, or a respacing of the reference
 * ("fast27", "ddim25", "10,10,3,2,2", or digits). `what` names the stage in messages.
 */
export function samplerSpec(
  name: string,
  steps: number | string | undefined,
  model: GlideModel,
  what: string,
): SamplerSpec {
  const [samplerOption, stepsOption] = what === "sampler" ? ["sampler", "steps"] : ["upsampleSampler", "upsampleSteps"];
  if (!(SAMPLER_NAMES as readonly string[]).includes(name)) {
    throw new PipelineError(
      `${what}: unknown sampler '${name}' (expected one of ${SAMPLER_NAMES.join(", ")})`,
      samplerOption,
    );
  }
  const T = model.config.diffusion_steps;
  let parsed: number | string | undefined = steps;
  if (typeof parsed === "string" && /^\s*\d+\s*$/.test(parsed)) parsed = Number(parsed);
  if (typeof parsed === "number") {
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > T) {
      throw new PipelineError(`${what}: steps must be an integer from 1 to ${T}, got ${parsed}`, stepsOption);
    }
  } else if (typeof parsed === "string") {
    try {
      if (spaceTimesteps(T, parsed).length === 0) throw new RangeError("it keeps no step");
    } catch (error) {
      throw new PipelineError(`${what}: bad steps '${parsed}': ${(error as Error).message}`, stepsOption);
    }
  }
  return { name: name as SamplerName, steps: parsed };
}

/** The seed to use: the given one (checked) or a fresh random one. */
export function resolveSeed(seed: number | undefined): number {
  if (seed === undefined) return globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new PipelineError(`seed must be a non-negative integer, got ${seed}`, "seed");
  }
  return seed;
}

export function checkBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 256) {
    throw new PipelineError(`batch size must be an integer from 1 to 256, got ${batchSize}`, "batchSize");
  }
  return batchSize;
}

/** Classifier-free guidance beyond ±this only saturates the picture (GLIDE's samples use up to ~10). */
export const MAX_GUIDANCE = 100;

export function checkGuidanceScale(scale: number): number {
  if (!Number.isFinite(scale) || Math.abs(scale) > MAX_GUIDANCE) {
    throw new PipelineError(
      `guidance scale must be from -${MAX_GUIDANCE} to ${MAX_GUIDANCE}, got ${scale}`,
      "guidanceScale",
    );
  }
  return scale;
}

export function checkTemperature(temperature: number): number {
  return checkPositive(temperature, "upsampling temperature", PipelineError);
}

export function checkPrompt(prompt: unknown): string {
  if (typeof prompt !== "string") {
    throw new PipelineError(`the prompt must be a string, got ${typeof prompt}`, "prompt");
  }
  return prompt;
}

/** Throws unless `model` is the kind a stage needs. */
export function checkModelKind(
  model: GlideModel | null | undefined,
  kind: "base" | "upsampler",
  what: string,
): GlideModel {
  if (!model) throw new PipelineError(`${what}: no model given`);
  if (kind === "upsampler" && !model.config.super_res) {
    throw new PipelineError(`${what}: expected an upsampler (a super-res model), got a ${model.variant} model`);
  }
  if (kind === "base" && model.config.super_res) {
    throw new PipelineError(
      `${what}: expected a base model, got an upsampler (${model.variant}); upsample with it instead`,
    );
  }
  return model;
}

export function checkPrecision(precision: unknown): Precision {
  if (precision === undefined) return "fp32";
  checkOneOf(precision, "precision", PRECISIONS, PipelineError);
  return precision as Precision;
}
