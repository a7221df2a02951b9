// Respacing: sample with a subset of the original timesteps, as the reference's space_timesteps
// and SpacedDiffusion do. The respaced process keeps the original ᾱ at every kept step and
// recomputes its betas from them; the network is still called with the original timestep index.
import { roundHalfEven } from "../util/round.ts";
import { checkPositiveInteger } from "../validate.ts";

/**
 * The original timesteps (ascending) to keep out of `numSteps`, from a respacing spec:
 *  - `"100"` or `"10,10,3,2,2"` (or `[10, 10, 3, 2, 2]`): the process is cut into equal sections
 *    (the first `numSteps % sections` one step longer) and each is strided to the given count;
 *  - `"ddimN"`: the DDIM paper's integer stride `0, s, 2s, …` that gives exactly N steps;
 *  - `"fast27"`: GLIDE's upsampler spacing, `"10,10,3,2,2"` with the last step T−1 moved to T−3;
 *  - `""`: every step.
 */
export function spaceTimesteps(numSteps: number, spec: string | readonly number[]): number[] {
  checkPositiveInteger(numSteps, "diffusion steps");
  if (typeof spec === "string") {
    const text = spec.trim();
    if (text === "") return range(0, numSteps, 1);
    if (text.startsWith("ddim")) return ddimStride(numSteps, parseCount(text.slice(4), spec));
    if (text === "fast27") {
      const steps = new Set(spaceTimesteps(numSteps, "10,10,3,2,2"));
      // The reference's reason: fewer DDIM artifacts from the noisiest timesteps.
      steps.delete(numSteps - 1);
      steps.add(numSteps - 3);
      return [...steps].sort((a, b) => a - b);
    }
    return sectionSpacing(
      numSteps,
      text.split(",").map((part) => parseCount(part, spec)),
    );
  }
  return sectionSpacing(numSteps, spec);
}

/** The betas of the respaced process: β'_k = 1 − ᾱ[t_k] / ᾱ[t_{k−1}] over the kept timesteps t_k. */
export function respacedBetas(
  alphasCumprod: Float64Array,
  useTimesteps: Iterable<number>,
): { betas: Float64Array; timestepMap: number[] } {
  const keep = new Set(useTimesteps);
  const betas: number[] = [];
  const timestepMap: number[] = [];
  let lastAlphaCumprod = 1.0;
  for (let i = 0; i < alphasCumprod.length; i++) {
    if (!keep.has(i)) continue;
    betas.push(1 - alphasCumprod[i] / lastAlphaCumprod);
    lastAlphaCumprod = alphasCumprod[i];
    timestepMap.push(i);
  }
  if (timestepMap.length !== keep.size) {
    throw new RangeError(`respacing keeps timesteps outside [0, ${alphasCumprod.length})`);
  }
  return { betas: Float64Array.from(betas), timestepMap };
}

function sectionSpacing(numSteps: number, sectionCounts: readonly number[]): number[] {
  if (sectionCounts.length === 0) throw new RangeError("respacing needs at least one section count");
  const sizePer = Math.floor(numSteps / sectionCounts.length);
  const extra = numSteps % sectionCounts.length;
  const all = new Set<number>();
  let startIdx = 0;
  sectionCounts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) throw new RangeError(`cannot divide a section of ${size} steps into ${count}`);
    // The reference accumulates a float stride and rounds half to even (Python's round()).
    const fracStride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let curIdx = 0.0;
    for (let j = 0; j < count; j++) {
      all.add(startIdx + roundHalfEven(curIdx));
      curIdx += fracStride;
    }
    startIdx += size;
  });
  return [...all].sort((a, b) => a - b);
}

function ddimStride(numSteps: number, count: number): number[] {
  for (let stride = 1; stride < numSteps; stride++) {
    if (Math.ceil(numSteps / stride) === count) return range(0, numSteps, stride);
  }
  throw new RangeError(`cannot take exactly ${count} steps out of ${numSteps} with an integer stride`);
}

function parseCount(text: string, spec: string | readonly number[]): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new RangeError(
      `bad timestep respacing "${String(spec)}": expected e.g. "100", "10,10,3,2,2", "ddim25" or "fast27"`,
    );
  }
  return Number(trimmed);
}

function range(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}
