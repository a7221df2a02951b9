// GLIDE's training objective as graph pieces: the hybrid loss of improved DDPM (Nichol & Dhariwal
// 2021) that GLIDE and ADM train with, as guided-diffusion's `training_losses` computes it for
// ε-prediction, learned-range variance and LossType.MSE:
//
//   x_t  = √ᾱ_t x₀ + √(1 − ᾱ_t) ε                       (q_sample)
//   mse  = mean over C,H,W of (ε − ε_θ)²
//   vb   = KL(q(x_{t−1} | x_t, x₀) ‖ p_θ(x_{t−1} | x_t)) / ln 2, mean over C,H,W   (t > 0)
//        = −log p_θ(x₀ | x₁) / ln 2 (discretized Gaussian), mean over C,H,W           (t = 0)
//   loss = mse + vb   (no rescaling of vb: that is RESCALED_MSE, which GLIDE does not use)
//
// p_θ's mean comes from ε_θ behind a stop-gradient, so the bound trains only the variance output v.
// Per-timestep constants are gathered in the graph from float32 copies of the diffusion's float64
// tables, exactly as the reference's `_extract_into_tensor` (index the float64 array, then .float()).
import type { GaussianDiffusion } from "../diffusion/gaussian.ts";
import * as g from "../graph/index.ts";
import { discretizedGaussianLogLikelihood, meanFlat, normalKl } from "./loss-terms.ts";

/** The diffusion's per-timestep constants at each sample's timestep, shaped [N, 1, …, 1] to broadcast over x. */
export interface StepCoefficients {
  sqrtAlphasCumprod: g.Tensor;
  sqrtOneMinusAlphasCumprod: g.Tensor;
  sqrtRecipAlphasCumprod: g.Tensor;
  sqrtRecipm1AlphasCumprod: g.Tensor;
  posteriorMeanCoef1: g.Tensor;
  posteriorMeanCoef2: g.Tensor;
  /** min_log of the learned range, and the true posterior's log variance. */
  posteriorLogVarianceClipped: g.Tensor;
  /** max_log of the learned range: log β_t. */
  logBetas: g.Tensor;
}

const TABLES: readonly (keyof StepCoefficients)[] = [
  "sqrtAlphasCumprod",
  "sqrtOneMinusAlphasCumprod",
  "sqrtRecipAlphasCumprod",
  "sqrtRecipm1AlphasCumprod",
  "posteriorMeanCoef1",
  "posteriorMeanCoef2",
  "posteriorLogVarianceClipped",
  "logBetas",
];

function checkTimesteps(timesteps: g.Tensor, where: string): number {
  if (timesteps.rank !== 1 || timesteps.dtype !== "int64") {
    throw new g.GraphError(
      `${where}: timesteps must be int64 [N], got ${timesteps.dtype} ${g.formatShape(timesteps.shape)}`,
    );
  }
  return timesteps.shape[0]!;
}

/** Picks table[t] for each sample (a float32 constant table, as the reference's .float()). */
function extract(table: ArrayLike<number>, timesteps: g.Tensor, rank: number): g.Tensor {
  const n = timesteps.shape[0]!;
  const values = g.gather(g.constant(Float32Array.from(table), [table.length]), timesteps);
  return g.reshape(values, [n, ...new Array<number>(rank - 1).fill(1)]);
}

/** The constants at `timesteps` (int64 [N], indices into `diffusion`) for x of rank `rank`. */
export function stepCoefficients(diffusion: GaussianDiffusion, timesteps: g.Tensor, rank = 4): StepCoefficients {
  checkTimesteps(timesteps, "stepCoefficients");
  const out = {} as Record<keyof StepCoefficients, g.Tensor>;
  for (const key of TABLES) out[key] = extract(diffusion[key], timesteps, rank);
  return out;
}

/**
 * The timesteps the network is called with: the original index of each step (float32 [N]). For a
 * process that is not respaced this is t itself.
 */
export function modelTimesteps(diffusion: GaussianDiffusion, timesteps: g.Tensor): g.Tensor {
  checkTimesteps(timesteps, "modelTimesteps");
  const identity = diffusion.timestepMap.every((k, i) => k === i);
  if (identity) return g.cast(timesteps, "float32");
  return g.gather(g.constant(Float32Array.from(diffusion.timestepMap), [diffusion.numTimesteps]), timesteps);
}

/** q(x_t | x₀) sampled with the given noise: √ᾱ_t x₀ + √(1 − ᾱ_t) ε. */
export function qSample(xStart: g.Tensor, noise: g.Tensor, c: StepCoefficients): g.Tensor {
  return g.add(g.mul(c.sqrtAlphasCumprod, xStart), g.mul(c.sqrtOneMinusAlphasCumprod, noise));
}

/** Mean of q(x_{t−1} | x_t, x₀): coef1 · x₀ + coef2 · x_t. */
export function qPosteriorMean(xStart: g.Tensor, xT: g.Tensor, c: StepCoefficients): g.Tensor {
  return g.add(g.mul(c.posteriorMeanCoef1, xStart), g.mul(c.posteriorMeanCoef2, xT));
}

/** x₀ predicted from ε: √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε. */
export function predictXStartFromEps(xT: g.Tensor, eps: g.Tensor, c: StepCoefficients): g.Tensor {
  return g.sub(g.mul(c.sqrtRecipAlphasCumprod, xT), g.mul(c.sqrtRecipm1AlphasCumprod, eps));
}

/** Learned-range log variance: frac·log β_t + (1 − frac)·log σ̃²_t (clipped), frac = (v + 1)/2. */
export function learnedRangeLogVariance(v: g.Tensor, c: StepCoefficients): g.Tensor {
  const frac = g.div(g.add(v, 1), 2);
  return g.add(g.mul(frac, c.logBetas), g.mul(g.sub(1, frac), c.posteriorLogVarianceClipped));
}

export interface VbTermsInputs {
  xStart: g.Tensor;
  xT: g.Tensor;
  /** int64 [N]: which samples are at t = 0 (they get the decoder NLL instead of the KL). */
  timesteps: g.Tensor;
  /** The network's ε (detach it for the hybrid loss) and variance value v, each shaped like x. */
  eps: g.Tensor;
  v: g.Tensor;
  coefficients: StepCoefficients;
}

/**
 * One term of the variational bound per sample, in bits per dimension (reference `_vb_terms_bpd`
 * with clip_denoised=False): the KL of the true posterior from p_θ, or at t = 0 the decoder's
 * negative log-likelihood of x₀.
 */
export function vbTermsBpd({ xStart, xT, timesteps, eps, v, coefficients: c }: VbTermsInputs): g.Tensor {
  const n = checkTimesteps(timesteps, "vbTermsBpd");
  const trueMean = qPosteriorMean(xStart, xT, c);
  const modelMean = qPosteriorMean(predictXStartFromEps(xT, eps, c), xT, c);
  const modelLogVariance = learnedRangeLogVariance(v, c);
  const kl = g.div(meanFlat(normalKl(trueMean, c.posteriorLogVarianceClipped, modelMean, modelLogVariance)), Math.LN2);
  const logLikelihood = discretizedGaussianLogLikelihood(xStart, modelMean, g.mul(modelLogVariance, 0.5));
  const decoderNll = g.div(meanFlat(g.neg(logLikelihood)), Math.LN2);
  const atZero = g.equal(timesteps, g.constant(new BigInt64Array(n), [n]));
  return g.where(atZero, decoderNll, kl);
}

export interface HybridLossInputs {
  xStart: g.Tensor;
  noise: g.Tensor;
  /** x_t = qSample(xStart, noise): the input the network saw. */
  xT: g.Tensor;
  timesteps: g.Tensor;
  /** The network's [N, 2C, …] output at (x_t, t): ε channels, then the variance value v. */
  modelOutput: g.Tensor;
  coefficients: StepCoefficients;
  /** [N]: each sample's weight of the ε term (loss-weighting.ts); absent: 1, as GLIDE. */
  mseWeights?: g.Tensor;
}

export interface HybridLoss {
  /** Per sample [N], unweighted. */
  mse: g.Tensor;
  vb: g.Tensor;
  loss: g.Tensor;
  /** Scalar: the batch mean of `loss` (what the optimizer minimizes). */
  meanLoss: g.Tensor;
}

/** The hybrid loss of improved DDPM with ε-prediction and learned-range variance (see the file header). */
export function hybridLoss({
  xStart,
  noise,
  xT,
  timesteps,
  modelOutput,
  coefficients,
  mseWeights,
}: HybridLossInputs): HybridLoss {
  const channels = xStart.shape[1]!;
  if (modelOutput.shape[1] !== 2 * channels || modelOutput.rank !== xStart.rank) {
    throw new g.GraphError(
      `hybridLoss: model output ${g.formatShape(modelOutput.shape)} must have 2×${channels} channels of x ${g.formatShape(xStart.shape)}`,
    );
  }
  const [eps, v] = g.split(modelOutput, 1, [channels, channels]) as [g.Tensor, g.Tensor];
  // The bound trains the variance only: its mean is built from a detached ε.
  const vb = vbTermsBpd({ xStart, xT, timesteps, eps: g.stopGradient(eps), v, coefficients });
  const mse = meanFlat(g.pow(g.sub(noise, eps), 2));
  const loss = g.add(mseWeights ? g.mul(mse, mseWeights) : mse, vb);
  return { mse, vb, loss, meanLoss: g.mean(loss) };
}
