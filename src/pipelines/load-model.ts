// Loading a GLIDE network for the pipelines: a checkpoint (.pt or .safetensors) with its
// configuration given as a preset, as a JSON object of the reference keyword names, or not at all
// (then the preset whose parameter shapes the checkpoint has).

import { readFile } from "node:fs/promises";
import {
  type GlideConfig,
  GlideConfigError,
  modelAndDiffusionDefaults,
  modelAndDiffusionDefaultsUpsampler,
  resolveConfig,
} from "../glide/config.ts";
import { InferConfigError, type InferredConfig, inferConfig, matchingPresets } from "../glide/infer-config.ts";
import { GlideModel } from "../glide/model.ts";
import { PRESET_NAMES, presetConfig } from "../glide/presets.ts";
import { loadCheckpointFile } from "../io/checkpoint-file.ts";
import type { StateDict } from "../io/host-tensor.ts";
import { PipelineError } from "./errors.ts";

export interface ModelSource {
  /** A torch.save state_dict (.pt, .pth, …) or a .safetensors file. */
  checkpoint: string;
  /** A preset name (see PRESET_NAMES); `config` entries override it. */
  preset?: string;
  /**
   * Reference keyword arguments (`num_channels`, `inpaint`, …): an object, or the path of a JSON
   * file holding one. Alone, it completes the reference defaults (the upsampler's when it sets
   * `super_res`).
   */
  config?: string | Readonly<Record<string, unknown>>;
}

export interface LoadedModel {
  model: GlideModel;
  /** The preset used or recognized; null for a configuration given only as keywords. */
  preset: string | null;
  checkpoint: string;
}

/** Reads the checkpoint, settles its configuration and checks every parameter's shape. */
export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  const { checkpoint } = source;
  const file = await loadCheckpointFile(checkpoint);
  const stateDict = file.stateDict;
  let config: GlideConfig;
  let preset: string | null = source.preset ?? null;
  if (source.preset !== undefined || source.config !== undefined) {
    config = await configFrom(source);
  } else if (file.metadata.config !== undefined) {
    // Weights written by `glide train` carry their configuration.
    config = await configFrom({ config: parseConfigMetadata(file.metadata.config, checkpoint) });
  } else {
    preset = recognizePreset(stateDict, checkpoint);
    config = presetConfig(preset);
  }
  return { model: GlideModel.fromStateDict(config, stateDict, checkpoint), preset, checkpoint };
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

/** A state dict from a torch.save or a safetensors file (told apart by their first bytes). */
export async function readStateDict(path: string): Promise<StateDict> {
  return (await loadCheckpointFile(path)).stateDict;
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

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf-8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PipelineError(`config '${path}': cannot read it (${code === "ENOENT" ? "no such file" : code})`);
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
