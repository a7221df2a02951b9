// The sampler, steps and guidance a run uses for what its caller left out: the model's recommended
// sampling (measured for its weights, from the checkpoint's metadata), else the pipelines' defaults.
import { DEFAULT_SAMPLER_STEPS } from "../diffusion/samplers/index.ts";
import type { GlideModel, RecommendedSampling } from "../glide/model.ts";

/** The base stage's sampler when neither the caller nor the model names one. */
export const DEFAULT_SAMPLER = "dpm++2m";

export interface SamplingChoice {
  sampler: string;
  /** Undefined: the sampler's own default step count. */
  steps: number | string | undefined;
  guidance: number;
}

/**
 * `guidanceFallback` is the pipeline's default scale; `recommendedGuidance` says whether the
 * model's recommended scale replaces it (text → image: yes; editing keeps its own default). The
 * recommended steps go with the recommended sampler only.
 */
export function samplingChoice(
  model: GlideModel,
  given: { sampler?: string; steps?: number | string; guidance?: number },
  guidanceFallback: number,
  recommendedGuidance: boolean,
): SamplingChoice {
  const recommended = model.recommendedSampling;
  const sampler = given.sampler ?? recommended?.sampler ?? DEFAULT_SAMPLER;
  const steps = given.steps ?? (sampler === recommended?.sampler ? recommended.steps : undefined);
  const guidance = given.guidance ?? (recommendedGuidance ? recommended?.guidance : undefined) ?? guidanceFallback;
  return { sampler, steps, guidance };
}

/** What a form shows for settings left empty: what a run that leaves them out gets. */
export interface SamplingFormDefaults {
  defaults: { sampler: string; steps: number; guidance: number; editGuidance: number };
  /** The steps each sampler takes when none are given (the recommended sampler's: the recommended steps). */
  samplerSteps: Record<string, number>;
}

/** A form's defaults for a model that recommends `recommended` (null: the pipelines' own). */
export function samplingFormDefaults(
  recommended: RecommendedSampling | null,
  guidance: { text: number; edit: number },
): SamplingFormDefaults {
  const sampler = recommended?.sampler ?? DEFAULT_SAMPLER;
  const samplerSteps: Record<string, number> = { ...DEFAULT_SAMPLER_STEPS };
  if (recommended) samplerSteps[recommended.sampler] = recommended.steps;
  return {
    defaults: {
      sampler,
      steps: samplerSteps[sampler] ?? DEFAULT_SAMPLER_STEPS[DEFAULT_SAMPLER],
      guidance: recommended?.guidance ?? guidance.text,
      editGuidance: guidance.edit,
    },
    samplerSteps,
  };
}
