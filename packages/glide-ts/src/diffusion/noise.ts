// Noise sources for sampling: from the project's seeded generator, or replayed from a recording.

import type { Rng } from "../util/rng.ts";
import type { NoiseSource } from "./model.ts";

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fresh N(0, 1) noise from `rng`, drawn in call order. */
export function rngNoise(rng: Rng): NoiseSource {
  return (_stepIndex, shape) => rng.normalArray(numel(shape));
}

/** Replays recorded noise: `recorded(stepIndex)` is the noise the reference drew at that step. */
export function replayNoise(recorded: (stepIndex: number) => Float32Array | undefined): NoiseSource {
  return (stepIndex, shape) => {
    const noise = recorded(stepIndex);
    if (!noise) throw new RangeError(`no recorded noise for sampling step ${stepIndex}`);
    if (noise.length !== numel(shape)) {
      throw new RangeError(
        `recorded noise of step ${stepIndex} has ${noise.length} elements, expected ${numel(shape)}`,
      );
    }
    return noise;
  };
}
