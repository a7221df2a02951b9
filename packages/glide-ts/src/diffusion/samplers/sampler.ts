// The contract between the sampling loop and a sampler (diffusers-style): the loop evaluates the
// model at `timesteps[i]` and hands the output to `step`; the sampler never runs the network.

import type { ModelOutput, XStartOptions } from "../model.ts";

export interface StepInput {
  /** The current sample (the one the model was evaluated on). */
  x: Float32Array;
  /** The model's output at (x, timesteps[index]). */
  output: ModelOutput;
  /** Position in `timesteps`; steps must come in order 0, 1, 2, … (0 starts a new run). */
  index: number;
  /** Fresh N(0, 1) noise shaped like x; a deterministic sampler never calls it. */
  noise: () => Float32Array;
  /** How the prediction of x₀ is post-processed (clip, denoisedFn). */
  xStart: XStartOptions;
}

export interface StepOutput {
  /** The next sample: the input of the next model evaluation, or the result after the last step. */
  sample: Float32Array;
  /** This step's prediction of x₀ (for previews). */
  predXStart: Float32Array;
}

export interface Sampler {
  readonly name: string;
  /** The original timestep index of each model evaluation, in order; one step per entry. */
  readonly timesteps: readonly number[];
  step(input: StepInput): StepOutput;
}

/** Throws unless steps come in order; returns true when `index` starts a new run. */
export function checkStepOrder(name: string, index: number, expected: number, total: number): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= total) {
    throw new RangeError(`${name}: step index ${index} is outside [0, ${total})`);
  }
  if (index !== 0 && index !== expected) {
    throw new RangeError(`${name}: step ${index} called after step ${expected - 1}; steps must run in order`);
  }
  return index === 0;
}
