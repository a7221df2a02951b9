// Build any sampler by name from the unrespaced process: the one switch a pipeline or CLI needs.

import { checkOneOf } from "../../validate.ts";
import type { GaussianDiffusion, VarianceMode } from "../gaussian.ts";
import { spaceTimesteps } from "../respace.ts";
import { DdimSampler } from "./ddim.ts";
import { DdpmSampler } from "./ddpm.ts";
import { DpmSolverPlusPlusSampler, type DpmSpacing, dpmSolverTimesteps } from "./dpm-solver.ts";
import { PlmsSampler } from "./plms.ts";
import type { Sampler } from "./sampler.ts";

export { DdimSampler, ddimStep } from "./ddim.ts";
export { DdpmSampler } from "./ddpm.ts";
export { DpmSolverPlusPlusSampler, type DpmSpacing, dpmSolverTimesteps } from "./dpm-solver.ts";
export { PlmsSampler } from "./plms.ts";
export type { Sampler, StepInput, StepOutput } from "./sampler.ts";

export type SamplerName = "ddpm" | "ddim" | "plms" | "dpm++2m";
export const SAMPLER_NAMES: readonly SamplerName[] = ["ddpm", "ddim", "plms", "dpm++2m"];

export interface SamplerSpec {
  name: SamplerName;
  /**
   * A step count, or a respacing spec of the reference ("100", "fast27", "ddim25", "10,10,3,2,2").
   * A count means section spacing (the reference's `str(n)`), except for DPM-Solver++, which
   * spreads its own steps (`spacing`). Defaults: ddpm 100, ddim 50, plms 50, dpm++2m 25.
   */
  steps?: number | string;
  /** DDIM only; default 0. */
  eta?: number;
  /** DDPM only; default "learned-range" (GLIDE's models). */
  variance?: VarianceMode;
  /** DPM-Solver++ only; default "time". */
  spacing?: DpmSpacing;
}

/** Steps of a whole run when none are given. */
export const DEFAULT_SAMPLER_STEPS: Record<SamplerName, number> = { ddpm: 100, ddim: 50, plms: 50, "dpm++2m": 25 };

/** A sampler over `base` (the full, unrespaced process of the model). */
export function createSampler(base: GaussianDiffusion, spec: SamplerSpec): Sampler {
  if (base.timestepMap.some((t, i) => t !== i)) {
    throw new RangeError("createSampler expects the unrespaced process; respacing comes from `steps`");
  }
  checkOneOf(spec.name, "the sampler", SAMPLER_NAMES);
  const steps = spec.steps ?? DEFAULT_SAMPLER_STEPS[spec.name];
  const T = base.numTimesteps;
  const kept =
    spec.name === "dpm++2m" && typeof steps === "number"
      ? dpmSolverTimesteps(base, steps, spec.spacing)
      : spaceTimesteps(T, String(steps));
  const process = base.respace(kept);
  switch (spec.name) {
    case "ddpm":
      return new DdpmSampler(process, { variance: spec.variance });
    case "ddim":
      return new DdimSampler(process, { eta: spec.eta });
    case "plms":
      return new PlmsSampler(process);
    case "dpm++2m":
      return new DpmSolverPlusPlusSampler(process);
  }
}
