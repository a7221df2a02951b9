// The likelihood terms of the diffusion training objective as graph pieces (Ho et al. 2020;
// improved DDPM): the KL divergence of two diagonal Gaussians and the discretized Gaussian
// log-likelihood of 8-bit data. Each formula is written in the reference's order of operations so
// that float32 results agree closely with it.
import * as g from "../graph/index.ts";

/** Mean over every axis but the first: one value per sample ([N, …] → [N]). */
export function meanFlat(x: g.Tensor): g.Tensor {
  if (x.rank < 2) return x;
  return g.mean(
    x,
    x.shape.map((_, i) => i).filter((i) => i > 0),
  );
}

/**
 * KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)) per element, in nats:
 * ½ (−1 + logvar2 − logvar1 + e^(logvar1 − logvar2) + (mean1 − mean2)² e^(−logvar2)).
 */
export function normalKl(mean1: g.Tensor, logvar1: g.Tensor, mean2: g.Tensor, logvar2: g.Tensor): g.Tensor {
  const sum = g.add(
    g.add(g.sub(g.add(-1, logvar2), logvar1), g.exp(g.sub(logvar1, logvar2))),
    g.mul(g.pow(g.sub(mean1, mean2), 2), g.exp(g.neg(logvar2))),
  );
  return g.mul(sum, 0.5);
}

/** The tanh approximation of the standard normal CDF: ½ (1 + tanh(√(2/π) (x + 0.044715 x³))). */
export function approxStandardNormalCdf(x: g.Tensor): g.Tensor {
  const inner = g.mul(g.add(x, g.mul(g.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return g.mul(g.add(g.tanh(inner), 1), 0.5);
}

/** Half the width of one 8-bit level in [−1, 1]: values are k/127.5 − 1, so bins are ±1/255 wide. */
export const HALF_BIN = 1 / 255;
/** Probabilities are clamped here before the log, as the reference does. */
export const LOG_FLOOR = 1e-12;
/** Below −0.999 (the lowest level) and above 0.999 (the highest), the bin extends to −∞ / +∞. */
export const EDGE = 0.999;

/**
 * log P(x) per element (nats) of data that were 8-bit values rescaled to [−1, 1], under a Gaussian
 * with the given means and log standard deviations, integrated over x's bin of width 2/255. The
 * lowest level takes all mass below its upper edge, the highest all mass above its lower edge.
 */
export function discretizedGaussianLogLikelihood(x: g.Tensor, means: g.Tensor, logScales: g.Tensor): g.Tensor {
  const centered = g.sub(x, means);
  const invStdv = g.exp(g.neg(logScales));
  const cdfPlus = approxStandardNormalCdf(g.mul(invStdv, g.add(centered, HALF_BIN)));
  const cdfMin = approxStandardNormalCdf(g.mul(invStdv, g.sub(centered, HALF_BIN)));
  const logCdfPlus = g.log(g.clamp(cdfPlus, LOG_FLOOR, Number.POSITIVE_INFINITY));
  const logOneMinusCdfMin = g.log(g.clamp(g.sub(1, cdfMin), LOG_FLOOR, Number.POSITIVE_INFINITY));
  const logCdfDelta = g.log(g.clamp(g.sub(cdfPlus, cdfMin), LOG_FLOOR, Number.POSITIVE_INFINITY));
  // The three cases picked by 0/1 float masks, not by where on comparisons: all three terms are
  // finite (clamped), so a·1 + b·0 + c·0 is a exactly, and no boolean tensor reaches WebGPU (its NHWC
  // layout would send each one to the CPU to be transposed and back, a wait for the GPU each step).
  const lowest = g.positive(g.sub(-EDGE, x));
  const highest = g.positive(g.sub(x, EDGE));
  const inside = g.sub(g.sub(1, lowest), highest);
  return g.add(g.add(g.mul(logCdfPlus, lowest), g.mul(logOneMinusCdfMin, highest)), g.mul(logCdfDelta, inside));
}
