// Loading a GLIDE network for the pipelines: a checkpoint (a file or URL by the platform, or
// safetensors bytes) with its configuration given as a preset, as a JSON object of the reference
// keyword names, or not at all (then the weights' own, or the preset whose parameter shapes they have).

import { SAMPLER_NAMES } from "../diffusion/samplers/index.ts";
import {
  type GlideConfig,
  GlideConfigError,
  modelAndDiffusionDefaults,
  modelAndDiffusionDefaultsUpsampler,
  resolveConfig,
} from "../glide/config.ts";
import { InferConfigError, type InferredConfig, inferConfig, matchingPresets } from "../glide/infer-config.ts";
import { GlideModel, type RecommendedSampling } from "../glide/model.ts";
import { PRESET_NAMES, presetConfig } from "../glide/presets.ts";
import { type CheckpointContents, checkpointFromBytes } from "../io/checkpoint-contents.ts";
import type { StateDict } from "../io/host-tensor.ts";
import { platform } from "../platform/platform.ts";
import { PipelineError } from "./errors.ts";
import { MAX_GUIDANCE } from "./options.ts";

export interface ModelSource {
  /**
   * Where the weights are: a path (Node: torch.save .pt or .safetensors) or URL (browser) that the
   * platform reads, or the bytes of a .safetensors file.
   */
  checkpoint: string | Uint8Array;
  /** Names the checkpoint in messages and in the result (default: the path, or "checkpoint bytes"). */
  label?: string;
  /** A preset name (see PRESET_NAMES); `config` entries override it. */
  preset?: string;
  /**
   * Reference keyword arguments (`num_channels`, `inpaint`, …): an object, or the path of a JSON
   * file holding one. Alone, it completes the reference defaults (the upsampler's when it sets
   * `super_res`).
   */
  config?: string | Readonly<Record<string, unknown>>;
  /** Keep the weights in JavaScript memory when sessions are built (see GlideModelOptions). */
  weightsInMemory?: boolean;
}

export interface LoadedModel {
  model: GlideModel;
  /** The preset used or recognized; null for a configuration given only as keywords. */
  preset: string | null;
  checkpoint: string;
}

/** Reads the checkpoint, settles its configuration and checks every parameter's shape. */
export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  const checkpoint = source.label ?? (typeof source.checkpoint === "string" ? source.checkpoint : "checkpoint bytes");
  const file = await readCheckpoint(source.checkpoint, checkpoint);
  const stateDict = file.stateDict;
  let config: GlideConfig;
  let preset: string | null = source.preset ?? null;
  // Weights written by `glide train` carry their configuration; their upsamplers keep the low-res input.
  const trainedHere = file.metadata.config !== undefined;
  if (source.preset !== undefined || source.config !== undefined) {
    config = await configFrom(source);
  } else if (file.metadata.config !== undefined) {
    // Weights written by `glide train` carry their configuration.
    config = await configFrom({ config: parseConfigMetadata(file.metadata.config, checkpoint) });
  } else {
    preset = recognizePreset(stateDict, checkpoint);
    config = presetConfig(preset);
  }
  const recommendedSampling =
    file.metadata.sampling === undefined ? null : parseSamplingMetadata(file.metadata.sampling, config, checkpoint);
  const model = GlideModel.fromStateDict(config, stateDict, checkpoint, {
    weightsInMemory: source.weightsInMemory,
    recommendedSampling,
    keepsLowRes: trainedHere,
  });
  return { model, preset, checkpoint };
}

/** The `sampling` metadata (`glide convert --sampler/--steps/--guidance`), checked. */
export function parseSamplingMetadata(text: string, config: GlideConfig, checkpoint: string): RecommendedSampling {
  const bad = (why: string) => new PipelineError(`${checkpoint}: its 'sampling' metadata ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("is not JSON");
  }
  const { sampler, steps, guidance } = (value ?? {}) as Record<string, unknown>;
  if (typeof sampler !== "string" || !(SAMPLER_NAMES as readonly string[]).includes(sampler)) {
    throw bad(`names no known sampler (${SAMPLER_NAMES.join(", ")}): ${JSON.stringify(sampler)}`);
  }
  if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 1 || steps > config.diffusion_steps) {
    throw bad(`has steps ${JSON.stringify(steps)}, not an integer from 1 to ${config.diffusion_steps}`);
  }
  if (typeof guidance !== "number" || !Number.isFinite(guidance) || Math.abs(guidance) > MAX_GUIDANCE) {
    throw bad(`has guidance ${JSON.stringify(guidance)}, not a number from -${MAX_GUIDANCE} to ${MAX_GUIDANCE}`);
  }
  return { sampler, steps, guidance };
}

function parseConfigMetadata(text: string, checkpoint: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new PipelineError(`${checkpoint}: its 'config' metadata is not a JSON object; pass --config or --preset`);
}

/** A checkpoint's contents, read by the platform from a location, or parsed from bytes. */
export async function readCheckpoint(checkpoint: string | Uint8Array, label: string): Promise<CheckpointContents> {
  if (checkpoint instanceof Uint8Array) return checkpointFromBytes(checkpoint, label);
  const files = platform().files;
  if (files.readCheckpoint) return files.readCheckpoint(checkpoint);
  return checkpointFromBytes(await files.readBytes(checkpoint), label);
}

/** A state dict from a torch.save or a safetensors file (told apart by their first bytes). */
export async function readStateDict(path: string): Promise<StateDict> {
  return (await readCheckpoint(path, path)).stateDict;
}

/**
 * The preset whose parameter names and shapes are exactly the checkpoint's. Attention heads change
 * no shape, so a checkpoint that matches no preset needs its configuration spelled out.
 */
export function recognizePreset(stateDict: StateDict, checkpoint: string): string {
  let inferred: InferredConfig;
  try {
    inferred = inferConfig(stateDict);
  } catch (error) {
    if (error instanceof InferConfigError) throw new PipelineError(`${checkpoint}: ${error.message}`);
    throw error;
  }
  const [preset] = matchingPresets(stateDict, inferred);
  if (preset) return preset;
  throw new PipelineError(
    `${checkpoint}: a ${inferred.variant} network (${inferred.image_size}×${inferred.image_size}, ` +
      `num_channels ${inferred.num_channels}, xf_width ${inferred.xf_width}) that matches no preset; its attention ` +
      "heads are not recorded in the weights, so give its configuration (--config FILE, or --preset NAME)",
  );
}

/** The configuration a preset and/or keyword arguments describe (no checkpoint needed). */
export async function configFrom(source: Omit<ModelSource, "checkpoint">): Promise<GlideConfig> {
  if (source.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(source.preset)) {
    throw new PipelineError(`unknown preset '${source.preset}' (known: ${PRESET_NAMES.join(", ")})`);
  }
  const keywords = typeof source.config === "string" ? await readConfigFile(source.config) : (source.config ?? {});
  try {
    if (source.preset !== undefined) return presetConfig(source.preset, keywords);
    const defaults = keywords.super_res === true ? modelAndDiffusionDefaultsUpsampler() : modelAndDiffusionDefaults();
    return resolveConfig(keywords, defaults);
  } catch (error) {
    if (error instanceof GlideConfigError) {
      const where = typeof source.config === "string" ? `config '${source.config}'` : "configuration";
      throw new PipelineError(`${where}: ${error.message}`);
    }
    throw error;
  }
}

/** A JSON object of configuration keywords from a file; one clear error for each way it can fail. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = new TextDecoder().decode(await platform().files.readBytes(path));
  } catch (error) {
    throw new PipelineError(`config '${path}': cannot read it (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PipelineError(`config '${path}': not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new PipelineError(`config '${path}': expected a JSON object of configuration keywords`);
  }
  return value as Record<string, unknown>;
}
