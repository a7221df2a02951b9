// Classifier-free guidance exactly as GLIDE samples: the network runs on the batch
// [conditional (N), unconditional (N)], eps = uncond + s · (cond − uncond) is used for both halves,
// and the variance channels pass through unchanged. The network's output has 2C channels per image:
// C of eps, then C of the learned-range variance value v.

import type { EpsModel, ModelOutput } from "./model.ts";

/** A network as run by the caller: its raw [N, 2C, H, W] output for x of `shape` [N, C, H, W]. */
export type NetworkFn = (x: Float32Array, t: number, shape: readonly number[]) => Promise<Float32Array>;

/** Split a [batch, 2C, …] output into eps and v, each [batch, C, …]. */
export function splitEpsVariance(output: Float32Array, batch: number): { eps: Float32Array; v: Float32Array } {
  const perImage = checkBatch(output.length, batch, "model output");
  if (perImage % 2 !== 0) throw new RangeError(`model output has an odd ${perImage} values per image`);
  const half = perImage / 2;
  const eps = new Float32Array(batch * half);
  const v = new Float32Array(batch * half);
  for (let n = 0; n < batch; n++) {
    eps.set(output.subarray(n * perImage, n * perImage + half), n * half);
    v.set(output.subarray(n * perImage + half, (n + 1) * perImage), n * half);
  }
  return { eps, v };
}

/** uncond + scale · (cond − uncond) for eps of the batch [cond (N), uncond (N)]; returns N images. */
export function combineGuidance(eps: Float32Array, scale: number): Float32Array {
  if (eps.length % 2 !== 0) throw new RangeError(`a [cond, uncond] batch has an even size, got ${eps.length}`);
  const half = eps.length / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const cond = eps[i];
    const uncond = eps[half + i];
    out[i] = uncond + scale * (cond - uncond);
  }
  return out;
}

/**
 * GLIDE's guided model_fn on a raw output of the batch [cond (N), uncond (N)] (`batch` = 2N): the
 * same [2N, 2C, …] layout with the guided eps in both halves and every v unchanged.
 */
export function guideModelOutput(output: Float32Array, batch: number, scale: number): Float32Array {
  if (batch % 2 !== 0) throw new RangeError(`a [cond, uncond] batch has an even size, got ${batch}`);
  const { eps, v } = splitEpsVariance(output, batch);
  const guided = combineGuidance(eps, scale);
  const both = new Float32Array(eps.length);
  both.set(guided, 0);
  both.set(guided, guided.length);
  return joinEpsVariance(both, v, batch);
}

/** The inverse of splitEpsVariance: [batch, C, …] eps and v into one [batch, 2C, …] output. */
export function joinEpsVariance(eps: Float32Array, v: Float32Array, batch: number): Float32Array {
  if (eps.length !== v.length) throw new RangeError(`eps has ${eps.length} values but v has ${v.length}`);
  const half = checkBatch(eps.length, batch, "eps");
  const out = new Float32Array(eps.length * 2);
  for (let n = 0; n < batch; n++) {
    out.set(eps.subarray(n * half, (n + 1) * half), 2 * n * half);
    out.set(v.subarray(n * half, (n + 1) * half), (2 * n + 1) * half);
  }
  return out;
}

/**
 * The sampler's model for N images, guided: the network sees [x, x] (its conditioning closure
 * must order the batch [cond, uncond]); eps is the guided combination, v the conditional half's.
 * Sampling only the N conditional images is what GLIDE does (its unconditional half of x is a copy).
 */
export function classifierFreeGuidance(network: NetworkFn, scale: number): EpsModel {
  return async (x, t, shape) => {
    const batch = shape[0];
    const doubled = new Float32Array(2 * x.length);
    doubled.set(x, 0);
    doubled.set(x, x.length);
    const raw = await network(doubled, t, [2 * batch, ...shape.slice(1)]);
    const { eps, v } = splitEpsVariance(raw, 2 * batch);
    return { eps: combineGuidance(eps, scale), v: v.slice(0, x.length) };
  };
}

/** The sampler's model from an unguided network with a [N, 2C, …] eps-and-variance output. */
export function epsVarianceModel(network: NetworkFn): EpsModel {
  return async (x, t, shape): Promise<ModelOutput> => splitEpsVariance(await network(x, t, shape), shape[0]);
}

function checkBatch(length: number, batch: number, what: string): number {
  if (!Number.isInteger(batch) || batch < 1 || length % batch !== 0) {
    throw new RangeError(`${what} of ${length} values does not split into ${batch} images`);
  }
  return length / batch;
}
