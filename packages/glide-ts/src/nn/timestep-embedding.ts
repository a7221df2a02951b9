// Sinusoidal timestep embedding, as the reference's `timestep_embedding`:
// freqs_i = exp(−ln(max_period) · i / half) for i < half = ⌊dim/2⌋, and the embedding is
// [cos(t·freqs), sin(t·freqs)] (cosines first), with a zero column appended when dim is odd.
import * as g from "../graph/index.ts";

/**
 * The frequencies as PyTorch computes them in float32: each intermediate is rounded to float32 so
 * t·freq at t ≈ 1000 agrees with the reference to the last bit where possible.
 */
export function timestepFrequencies(dim: number, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const negLog = Math.fround(-Math.log(maxPeriod));
  return Float32Array.from({ length: half }, (_, i) => Math.exp(Math.fround(Math.fround(negLog * i) / half)));
}

/** [N] timesteps (float32 or int64; fractional allowed) → [N, dim] embedding. */
export function timestepEmbedding(timesteps: g.Tensor, dim: number, maxPeriod = 10000): g.Tensor {
  if (timesteps.rank !== 1)
    throw new g.GraphError(`timestepEmbedding: timesteps must be [N], got ${g.formatShape(timesteps.shape)}`);
  const n = timesteps.shape[0]!;
  const freqs = timestepFrequencies(dim, maxPeriod);
  const t = g.reshape(g.cast(timesteps, "float32"), [n, 1]);
  const args = g.mul(t, g.constant(freqs, [1, freqs.length]));
  const embedding = g.concat([g.cos(args), g.sin(args)], 1);
  return dim % 2 ? g.padAxis(embedding, 1, 0, 1) : embedding;
}
