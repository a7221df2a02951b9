// PLMS: the pseudo linear multistep sampler of Liu et al. 2022 (PNDM) as used with GLIDE-era and
// latent-diffusion models. Each update is a DDIM (eta 0) transfer driven by a combination of
// recent ε predictions: Adams–Bashforth of order 2, 3, then 4. The first step has no history, so
// it is a pseudo improved Euler step: a provisional DDIM step, one more model evaluation there, and
// the transfer redone with the mean of both ε. K kept steps therefore take K + 1 evaluations.
// A guidance gradient shifts each evaluation's ε in the score form before it is combined.

import { conditionEps } from "../condition.ts";
import type { GaussianDiffusion } from "../gaussian.ts";
import { ddimStep } from "./ddim.ts";
import { checkStepOrder, type Sampler, type StepInput, type StepOutput } from "./sampler.ts";

export class PlmsSampler implements Sampler {
  readonly name = "plms";
  readonly timesteps: readonly number[];
  private history: Float32Array[] = []; // ε at previous steps, most recent last
  private firstX: Float32Array | null = null; // x before the provisional first step
  private nextIndex = 0;

  constructor(private readonly diffusion: GaussianDiffusion) {
    const map = diffusion.timestepMap;
    const K = diffusion.numTimesteps;
    const ts = [map[K - 1]];
    // The second timestep is evaluated twice: at the provisional and at the corrected sample.
    for (let t = K - 2; t >= 0; t--) ts.push(...(t === K - 2 ? [map[t], map[t]] : [map[t]]));
    this.timesteps = ts;
  }

  step({ x, output, index, xStart }: StepInput): StepOutput {
    if (checkStepOrder(this.name, index, this.nextIndex, this.timesteps.length)) {
      this.history = [];
      this.firstX = null;
    }
    this.nextIndex = index + 1;
    const K = this.diffusion.numTimesteps;
    // The step of this process the model was evaluated at: K − 1, then K − 2 twice, then one lower each.
    const evaluated = index <= 1 ? K - 1 - index : K - index;
    const eps = output.grad ? conditionEps(this.diffusion, evaluated, output.eps, output.grad) : output.eps;

    if (index === 0) {
      if (K === 1) return ddimStep(this.diffusion, x, eps, 0, xStart);
      // Provisional step; the model is evaluated next at its result.
      this.firstX = x;
      this.history.push(eps);
      return ddimStep(this.diffusion, x, eps, K - 1, xStart);
    }
    if (index === 1) {
      // Pseudo improved Euler: redo the first transfer with the mean of both ε.
      const mixed = combine([this.history[0], eps], [1 / 2, 1 / 2]);
      return ddimStep(this.diffusion, this.firstX!, mixed, K - 1, xStart);
    }
    const t = K - index;
    const h = this.history;
    const n = h.length;
    let mixed: Float32Array;
    if (n === 1) mixed = combine([eps, h[0]], [3 / 2, -1 / 2]);
    else if (n === 2) mixed = combine([eps, h[1], h[0]], [23 / 12, -16 / 12, 5 / 12]);
    else mixed = combine([eps, h[n - 1], h[n - 2], h[n - 3]], [55 / 24, -59 / 24, 37 / 24, -9 / 24]);
    h.push(eps);
    if (h.length > 3) h.shift();
    return ddimStep(this.diffusion, x, mixed, t, xStart);
  }
}

function combine(arrays: Float32Array[], weights: number[]): Float32Array {
  const out = new Float32Array(arrays[0].length);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < arrays.length; j++) s += weights[j] * arrays[j][i];
    out[i] = s;
  }
  return out;
}
