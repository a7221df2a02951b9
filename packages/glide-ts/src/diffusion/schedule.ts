// Beta schedules of the forward process, in float64, computed the way the reference (numpy) does,
// operation for operation, so that the values agree to the last bit or two.

export type BetaScheduleName = "squaredcos_cap_v2" | "linear";

import { checkOneOf, checkPositiveInteger } from "../validate.ts";

export const BETA_SCHEDULES: readonly BetaScheduleName[] = ["squaredcos_cap_v2", "linear"];

/** The betas of a named schedule with `numSteps` diffusion steps. */
export function betaSchedule(name: BetaScheduleName, numSteps: number): Float64Array {
  checkPositiveInteger(numSteps, "diffusion steps");
  checkOneOf(name, "the beta schedule", BETA_SCHEDULES);
  switch (name) {
    case "linear": {
      // Ho et al.'s 0.0001..0.02 for 1000 steps, scaled so that other step counts cover the same process.
      const scale = 1000 / numSteps;
      return linspace(scale * 0.0001, scale * 0.02, numSteps);
    }
    case "squaredcos_cap_v2":
      // Nichol & Dhariwal's cosine schedule (offset s = 0.008).
      return betasForAlphaBar(numSteps, (t) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2);
  }
}

/**
 * Discretize a continuous ᾱ(t), t ∈ [0, 1], into betas: β_i = 1 − ᾱ((i+1)/T) / ᾱ(i/T), capped at
 * `maxBeta` (the cosine schedule's last steps would otherwise reach β = 1, a singular posterior).
 */
export function betasForAlphaBar(numSteps: number, alphaBar: (t: number) => number, maxBeta = 0.999): Float64Array {
  const betas = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) {
    const t1 = i / numSteps;
    const t2 = (i + 1) / numSteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/** numpy.linspace(start, stop, num) in float64: start + i·step, with the last value exactly `stop`. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}
