// The generic sampling loop: start from x_T, and for each of the sampler's timesteps evaluate the
// model and let the sampler step. Any sampler, any model, any noise source.

import { throwIfCancelled } from "../errors.ts";
import type { Rng } from "../util/rng.ts";
import type { DenoisedFn, EpsModel, NoiseSource, XtFn } from "./model.ts";
import { rngNoise } from "./noise.ts";
import type { Sampler } from "./samplers/sampler.ts";

export interface StepInfo {
  /** Step number, 0-based, and the number of steps (= model evaluations). */
  index: number;
  total: number;
  /** Original timestep index the model was evaluated at. */
  t: number;
  /** The sample after this step, and this step's prediction of x₀. */
  x: Float32Array;
  predXStart: Float32Array;
}

export interface SampleOptions {
  sampler: Sampler;
  model: EpsModel;
  /** Shape of x, e.g. [N, 3, 64, 64]. */
  shape: readonly number[];
  /** Default source of x_T and of step noise; needed unless both `start` and `noise` are given. */
  rng?: Rng;
  /** x_T (e.g. recorded, or scaled by a temperature); drawn N(0, 1) from `rng` when absent. */
  start?: Float32Array;
  /** Per-step noise; `rngNoise(rng)` when absent. Only stochastic steps call it. */
  noise?: NoiseSource;
  /** Clamp predicted x₀ to [−1, 1]; default true, as GLIDE samples. */
  clipDenoised?: boolean;
  denoisedFn?: DenoisedFn;
  /** Applied to x_t before every model evaluation and to the final sample (see XtFn). */
  xtFn?: XtFn;
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Checked before every step: an aborted signal stops the loop with a CancelledError. */
  signal?: AbortSignal;
}

/** Runs the whole reverse process and returns x₀ (layout of `shape`). */
export async function sample(options: SampleOptions): Promise<Float32Array> {
  const { sampler, model, shape, rng } = options;
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`bad sample shape [${shape.join(", ")}]`);
  const noise = options.noise ?? (rng ? rngNoise(rng) : undefined);
  let x = options.start ?? (rng ? rng.normalArray(size) : undefined);
  if (!x) throw new TypeError("sample() needs `start` or an `rng` for x_T");
  if (x.length !== size)
    throw new RangeError(`start has ${x.length} elements, expected ${size} for [${shape.join(", ")}]`);
  const xStart = { clipDenoised: options.clipDenoised ?? true, denoisedFn: options.denoisedFn };
  const total = sampler.timesteps.length;

  for (let index = 0; index < total; index++) {
    throwIfCancelled(options.signal, "sampling");
    const t = sampler.timesteps[index];
    if (options.xtFn) x = checkedXt(options.xtFn(x, t), size);
    const output = await model(x, t, shape);
    if (output.eps.length !== size)
      throw new RangeError(`model eps has ${output.eps.length} elements, expected ${size}`);
    const stepNoise = () => {
      if (!noise) throw new TypeError(`${sampler.name} needs noise: pass \`rng\` or \`noise\` to sample()`);
      return noise(index, shape);
    };
    const result = sampler.step({ x, output, index, noise: stepNoise, xStart });
    x = result.sample;
    await options.onStep?.({ index, total, t, x, predXStart: result.predXStart });
  }
  return options.xtFn ? checkedXt(options.xtFn(x, null), size) : x;
}

function checkedXt(x: Float32Array, size: number): Float32Array {
  if (x.length !== size) throw new RangeError(`xtFn returned ${x.length} elements, expected ${size}`);
  return x;
}
