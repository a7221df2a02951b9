// Gaussian diffusion (Ho et al. 2020; improved DDPM, Nichol & Dhariwal 2021): the forward process,
// its posterior, and the model's reverse step. Per-step constants are float64 like the
// reference's numpy arrays; per-element results are float32 like its torch tensors.
// Timestep arguments are indices into THIS process (respaced or not); `timestepMap` turns them
// into the original indices the network expects.

import type { ModelOutput, XStartOptions } from "./model.ts";
import { respacedBetas, spaceTimesteps } from "./respace.ts";
import { type BetaScheduleName, betaSchedule } from "./schedule.ts";

/** One timestep for the whole batch, or one per sample (the batch is x.length / per-sample size). */
export type Timesteps = number | ArrayLike<number>;

/** How the reverse step's variance is chosen. GLIDE's models learn it ("learned-range"). */
export type VarianceMode = "learned-range" | "fixed-small" | "fixed-large";

export interface PMeanVariance {
  /** Mean of p(x_{t−1} | x_t): the posterior mean at the predicted x₀. */
  mean: Float32Array;
  /** log of the variance of p(x_{t−1} | x_t), per element. */
  logVariance: Float32Array;
  /** The prediction of x₀, after denoisedFn and clipping. */
  predXStart: Float32Array;
}

export class GaussianDiffusion {
  readonly numTimesteps: number;
  /** Original timestep index of each step of this process (the identity unless respaced). */
  readonly timestepMap: readonly number[];
  readonly betas: Float64Array;
  readonly logBetas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly alphasCumprodNext: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly logOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  /** Variance of q(x_{t−1} | x_t, x₀): β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t); 0 at t = 0. */
  readonly posteriorVariance: Float64Array;
  /** log posterior variance with the t = 0 entry (log 0) replaced by the t = 1 value. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Posterior mean = coef1 · x₀ + coef2 · x_t. */
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;

  constructor(betas: ArrayLike<number>, timestepMap?: readonly number[]) {
    const T = betas.length;
    if (T < 1) throw new RangeError("a diffusion needs at least one step");
    for (let i = 0; i < T; i++) {
      if (!(betas[i] > 0 && betas[i] <= 1)) throw new RangeError(`beta[${i}] = ${betas[i]} is not in (0, 1]`);
    }
    if (timestepMap && timestepMap.length !== T) {
      throw new RangeError(`timestepMap has ${timestepMap.length} entries for ${T} steps`);
    }
    this.numTimesteps = T;
    this.timestepMap = timestepMap ? [...timestepMap] : Array.from({ length: T }, (_, i) => i);
    this.betas = Float64Array.from(betas);

    const f = (fn: (i: number) => number) => Float64Array.from({ length: T }, (_, i) => fn(i));
    const b = this.betas;
    const alphas = f((i) => 1.0 - b[i]);
    const ac = new Float64Array(T);
    let prod = 1.0;
    for (let i = 0; i < T; i++) {
      prod *= alphas[i]; // sequential, as numpy.cumprod
      ac[i] = prod;
    }
    const acPrev = f((i) => (i === 0 ? 1.0 : ac[i - 1]));
    this.alphasCumprod = ac;
    this.alphasCumprodPrev = acPrev;
    this.alphasCumprodNext = f((i) => (i === T - 1 ? 0.0 : ac[i + 1]));
    this.logBetas = f((i) => Math.log(b[i]));

    this.sqrtAlphasCumprod = f((i) => Math.sqrt(ac[i]));
    this.sqrtOneMinusAlphasCumprod = f((i) => Math.sqrt(1.0 - ac[i]));
    this.logOneMinusAlphasCumprod = f((i) => Math.log(1.0 - ac[i]));
    this.sqrtRecipAlphasCumprod = f((i) => Math.sqrt(1.0 / ac[i]));
    this.sqrtRecipm1AlphasCumprod = f((i) => Math.sqrt(1.0 / ac[i] - 1));

    const pv = f((i) => (b[i] * (1.0 - acPrev[i])) / (1.0 - ac[i]));
    this.posteriorVariance = pv;
    // The posterior variance is 0 at t = 0; its log is clipped to the t = 1 value.
    // (With a single step there is no t = 1, and the reference would fail; reuse t = 0's log.)
    this.posteriorLogVarianceClipped = f((i) => Math.log(i === 0 ? (T > 1 ? pv[1] : pv[0]) : pv[i]));
    this.posteriorMeanCoef1 = f((i) => (b[i] * Math.sqrt(acPrev[i])) / (1.0 - ac[i]));
    this.posteriorMeanCoef2 = f((i) => ((1.0 - acPrev[i]) * Math.sqrt(alphas[i])) / (1.0 - ac[i]));
  }

  /** The process of a named beta schedule, optionally respaced (spec as `spaceTimesteps`). */
  static fromSchedule(
    schedule: BetaScheduleName,
    numSteps: number,
    respacing: string | readonly number[] = "",
  ): GaussianDiffusion {
    const base = new GaussianDiffusion(betaSchedule(schedule, numSteps));
    return respacing === "" ? base : base.respace(spaceTimesteps(numSteps, respacing));
  }

  /**
   * The process that keeps only `useTimesteps` (indices into this process), with betas recomputed
   * from the kept ᾱ. The network is still called with the original indices (see timestepMap).
   */
  respace(useTimesteps: Iterable<number>): GaussianDiffusion {
    const { betas, timestepMap } = respacedBetas(this.alphasCumprod, useTimesteps);
    return new GaussianDiffusion(
      betas,
      timestepMap.map((k) => this.timestepMap[k]),
    );
  }

  /** The original timestep index of step `t` of this process: what the network is called with. */
  modelTimestep(t: number): number {
    this.checkStep(t);
    return this.timestepMap[t];
  }

  /** Sample q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I): diffuse data by t + 1 steps. */
  qSample(xStart: Float32Array, t: Timesteps, noise: Float32Array): Float32Array {
    sameLength(xStart, noise, "noise");
    const out = new Float32Array(xStart.length);
    this.forEachSample(t, xStart.length, (k, from, to) => {
      const a = this.sqrtAlphasCumprod[k];
      const s = this.sqrtOneMinusAlphasCumprod[k];
      for (let i = from; i < to; i++) out[i] = a * xStart[i] + s * noise[i];
    });
    return out;
  }

  /**
   * The posterior q(x_{t−1} | x_t, x₀): its mean (per element), and its variance and clipped log
   * variance (per sample; one entry when t is a single number).
   */
  qPosteriorMeanVariance(
    xStart: Float32Array,
    xT: Float32Array,
    t: Timesteps,
  ): { mean: Float32Array; variance: Float64Array; logVarianceClipped: Float64Array } {
    sameLength(xStart, xT, "x_t");
    const mean = new Float32Array(xT.length);
    const variance: number[] = [];
    const logVarianceClipped: number[] = [];
    this.forEachSample(t, xT.length, (k, from, to) => {
      const c1 = this.posteriorMeanCoef1[k];
      const c2 = this.posteriorMeanCoef2[k];
      for (let i = from; i < to; i++) mean[i] = c1 * xStart[i] + c2 * xT[i];
      variance.push(this.posteriorVariance[k]);
      logVarianceClipped.push(this.posteriorLogVarianceClipped[k]);
    });
    return { mean, variance: Float64Array.from(variance), logVarianceClipped: Float64Array.from(logVarianceClipped) };
  }

  /** x₀ = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, written as the reference does: √(1/ᾱ) x_t − √(1/ᾱ − 1) ε. */
  predictXStartFromEps(xT: Float32Array, t: Timesteps, eps: Float32Array): Float32Array {
    sameLength(xT, eps, "eps");
    const out = new Float32Array(xT.length);
    this.forEachSample(t, xT.length, (k, from, to) => {
      const a = this.sqrtRecipAlphasCumprod[k];
      const b = this.sqrtRecipm1AlphasCumprod[k];
      for (let i = from; i < to; i++) out[i] = a * xT[i] - b * eps[i];
    });
    return out;
  }

  /** The inverse of predictXStartFromEps: ε = (√(1/ᾱ) x_t − x₀) / √(1/ᾱ − 1). */
  predictEpsFromXStart(xT: Float32Array, t: Timesteps, xStart: Float32Array): Float32Array {
    sameLength(xT, xStart, "x_start");
    const out = new Float32Array(xT.length);
    this.forEachSample(t, xT.length, (k, from, to) => {
      const a = this.sqrtRecipAlphasCumprod[k];
      const b = this.sqrtRecipm1AlphasCumprod[k];
      for (let i = from; i < to; i++) out[i] = (a * xT[i] - xStart[i]) / b;
    });
    return out;
  }

  /**
   * Learned-range variance (improved DDPM eq. 15): v ∈ [−1, 1] interpolates the log variance
   * between the clipped posterior log variance (v = −1) and log β_t (v = +1).
   */
  learnedRangeLogVariance(t: number, v: Float32Array): Float32Array {
    this.checkStep(t);
    const minLog = this.posteriorLogVarianceClipped[t];
    const maxLog = this.logBetas[t];
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const frac = (v[i] + 1) / 2;
      out[i] = frac * maxLog + (1 - frac) * minLog;
    }
    return out;
  }

  /** The log variance of a fixed-variance reverse step, for every element of an x of `length`. */
  fixedLogVariance(t: number, mode: "fixed-small" | "fixed-large", length: number): Float32Array {
    this.checkStep(t);
    // fixed-large uses β_t, except at t = 0 where (as improved-diffusion) the posterior variance at
    // t = 1 keeps the log finite-sized; fixed-small is the clipped posterior variance.
    const value =
      mode === "fixed-small"
        ? this.posteriorLogVarianceClipped[t]
        : t === 0
          ? this.posteriorLogVarianceClipped[0]
          : this.logBetas[t];
    return new Float32Array(length).fill(value);
  }

  /** x₀ post-processing of the reference: denoisedFn first, then the clamp to [−1, 1]. */
  processXStart(xStart: Float32Array, t: number, options: XStartOptions): Float32Array {
    let x = xStart;
    if (options.denoisedFn) {
      x = options.denoisedFn(x, this.modelTimestep(t));
      sameLength(xStart, x, "denoisedFn result");
    }
    return options.clipDenoised ? clamp(x, -1, 1) : x;
  }

  /**
   * p(x_{t−1} | x_t) from the model's output at (x_t, t): x₀ is predicted from ε and processed,
   * the mean is the posterior mean at that x₀, and the variance is learned-range (from `v`) or fixed.
   */
  pMeanVariance(
    x: Float32Array,
    t: number,
    output: ModelOutput,
    options: XStartOptions & { variance?: VarianceMode },
  ): PMeanVariance {
    const mode = options.variance ?? "learned-range";
    let logVariance: Float32Array;
    if (mode === "learned-range") {
      if (!output.v) {
        throw new TypeError("learned-range variance needs the model's variance output `v` (or use a fixed variance)");
      }
      sameLength(x, output.v, "v");
      logVariance = this.learnedRangeLogVariance(t, output.v);
    } else {
      logVariance = this.fixedLogVariance(t, mode, x.length);
    }
    const predXStart = this.processXStart(this.predictXStartFromEps(x, t, output.eps), t, options);
    const { mean } = this.qPosteriorMeanVariance(predXStart, x, t);
    return { mean, logVariance, predXStart };
  }

  private checkStep(t: number): void {
    if (!Number.isInteger(t) || t < 0 || t >= this.numTimesteps) {
      throw new RangeError(`timestep ${t} is outside [0, ${this.numTimesteps})`);
    }
  }

  /** Calls fn(t_k, from, to) for each sample's element range, with its timestep checked. */
  private forEachSample(t: Timesteps, length: number, fn: (k: number, from: number, to: number) => void): void {
    if (typeof t === "number") {
      this.checkStep(t);
      fn(t, 0, length);
      return;
    }
    const batch = t.length;
    if (batch === 0 || length % batch !== 0) {
      throw new RangeError(`${batch} timesteps do not split ${length} elements into equal samples`);
    }
    const per = length / batch;
    for (let n = 0; n < batch; n++) {
      this.checkStep(t[n]);
      fn(t[n], n * per, (n + 1) * per);
    }
  }
}

/** The arguments of the reference's create_gaussian_diffusion that shape the process. */
export interface DiffusionConfig {
  noiseSchedule: BetaScheduleName;
  diffusionSteps: number;
  /** Respacing spec; "" keeps every step (the reference's default). */
  timestepRespacing?: string;
}

/**
 * The process as the reference's create_gaussian_diffusion builds it: always a respaced process,
 * even for "" (all steps), so its betas are recomputed from ᾱ exactly as the reference's are.
 */
export function createDiffusion(config: DiffusionConfig): GaussianDiffusion {
  const base = new GaussianDiffusion(betaSchedule(config.noiseSchedule, config.diffusionSteps));
  return base.respace(spaceTimesteps(config.diffusionSteps, config.timestepRespacing ?? ""));
}

export function clamp(x: Float32Array, lo: number, hi: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(Math.max(x[i], lo), hi); // NaN stays NaN, as torch.clamp
  return out;
}

function sameLength(a: Float32Array, b: Float32Array, name: string): void {
  if (a.length !== b.length) throw new RangeError(`${name} has ${b.length} elements, expected ${a.length}`);
}
