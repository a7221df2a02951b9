// The Gaussian process's formulas: hand-computed values, an independent derivation of the
// posterior, and the learned-range variance.

import assert from "node:assert/strict";
import { test } from "node:test";
import { GaussianDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import { forceKnownRegion } from "../../packages/glide-ts/src/diffusion/inpaint.ts";

function close(actual: number, expected: number, rel: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(err <= rel, `${what}: ${actual} vs ${expected} (rel ${err})`);
}

function closeArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= abs, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const linear = GaussianDiffusion.fromSchedule("linear", 1000);
const cosine = GaussianDiffusion.fromSchedule("squaredcos_cap_v2", 1000);

test("hand-computed values of the linear schedule at t = 0 and t = 1", () => {
  const b0 = 0.0001;
  const b1 = 0.0001 + (0.02 - 0.0001) / 999;
  const a0 = 1 - b0;
  const a1 = a0 * (1 - b1);
  close(linear.alphasCumprod[0], a0, 1e-15, "ᾱ0");
  close(linear.alphasCumprod[1], a1, 1e-15, "ᾱ1");
  assert.equal(linear.alphasCumprodPrev[0], 1);
  // At t = 0 the posterior is x₀ itself: variance 0, mean = 1·x₀ + 0·x_t.
  assert.equal(linear.posteriorVariance[0], 0);
  close(linear.posteriorMeanCoef1[0], 1, 1e-12, "coef1[0]");
  assert.equal(linear.posteriorMeanCoef2[0], 0);
  const pv1 = (b1 * (1 - a0)) / (1 - a1);
  close(linear.posteriorVariance[1], pv1, 1e-12, "posterior variance[1]");
  // log 0 at t = 0 is clipped to the t = 1 value.
  close(linear.posteriorLogVarianceClipped[0], Math.log(pv1), 1e-12, "clipped log variance[0]");
  close(linear.posteriorLogVarianceClipped[1], Math.log(pv1), 1e-12, "clipped log variance[1]");
  close(linear.posteriorMeanCoef1[1], (b1 * Math.sqrt(a0)) / (1 - a1), 1e-12, "coef1[1]");
  close(linear.posteriorMeanCoef2[1], ((1 - a0) * Math.sqrt(1 - b1)) / (1 - a1), 1e-12, "coef2[1]");
  close(linear.sqrtRecipm1AlphasCumprod[1], Math.sqrt(1 / a1 - 1), 1e-12, "√(1/ᾱ − 1)");
  assert.equal(linear.alphasCumprodNext[999], 0);
});

test("the posterior equals Gaussian conditioning of (x_{t−1}, x_t) given x₀", () => {
  // Independently of the closed form: x_{t−1} | x₀ ~ N(√ᾱ' x₀, 1 − ᾱ'), x_t = √α x_{t−1} + √β z, so
  // E[x_{t−1} | x_t, x₀] = √ᾱ' x₀ + C/V (x_t − √ᾱ x₀) and Var = (1 − ᾱ') − C²/V, with
  // C = √α (1 − ᾱ'), V = 1 − ᾱ.
  for (const d of [linear, cosine]) {
    for (const t of [1, 2, 10, 250, 500, 900, 998]) {
      const ab = d.alphasCumprod[t];
      const abPrev = d.alphasCumprod[t - 1];
      const alpha = 1 - d.betas[t];
      const C = Math.sqrt(alpha) * (1 - abPrev);
      const V = 1 - ab;
      const x0 = 0.37;
      const xt = -1.25;
      const { mean, variance, logVarianceClipped } = d.qPosteriorMeanVariance(
        new Float32Array([x0]),
        new Float32Array([xt]),
        t,
      );
      const expectedMean = Math.sqrt(abPrev) * x0 + (C / V) * (xt - Math.sqrt(ab) * x0);
      close(mean[0], expectedMean, 1e-6, `mean at t=${t}`); // float32 result
      close(variance[0], 1 - abPrev - (C * C) / V, 1e-9, `variance at t=${t}`);
      close(logVarianceClipped[0], Math.log(variance[0]), 1e-12, `log variance at t=${t}`);
    }
  }
});

test("qSample and predictXStartFromEps invert each other; per-sample timesteps", () => {
  const x0 = new Float32Array([0.5, -0.25, 0.75, 1, -1, 0]);
  const noise = new Float32Array([1.5, -0.3, 0.2, -2, 0.7, 0.1]);
  const ts = [10, 600]; // two samples of three values
  const xt = cosine.qSample(x0, ts, noise);
  for (let i = 0; i < 6; i++) {
    const t = ts[Math.floor(i / 3)];
    const expected = Math.sqrt(cosine.alphasCumprod[t]) * x0[i] + Math.sqrt(1 - cosine.alphasCumprod[t]) * noise[i];
    close(xt[i], expected, 1e-6, `q_sample[${i}]`);
  }
  closeArrays(cosine.predictXStartFromEps(xt, ts, noise), x0, 1e-5, "x₀ from ε");
  closeArrays(cosine.predictEpsFromXStart(xt, ts, x0), noise, 1e-5, "ε from x₀");
  assert.throws(() => cosine.qSample(x0, [1, 2, 3, 4], noise), /equal samples/);
  assert.throws(() => cosine.qSample(x0, 1000, noise), /outside/);
});

test("learned-range variance interpolates the log variance between posterior (v = −1) and β (v = +1)", () => {
  for (const t of [0, 1, 37, 999]) {
    const minLog = cosine.posteriorLogVarianceClipped[t];
    const maxLog = Math.log(cosine.betas[t]);
    const lv = cosine.learnedRangeLogVariance(t, new Float32Array([-1, 0, 1, 0.5]));
    closeArrays(lv, [minLog, (minLog + maxLog) / 2, maxLog, 0.25 * minLog + 0.75 * maxLog], 1e-5, `t=${t}`);
  }
});

test("pMeanVariance: posterior mean at the processed x₀ prediction", () => {
  const t = 400;
  const x = new Float32Array([0.3, -2.5, 1.7, 0.05]);
  const eps = new Float32Array([0.2, -1.1, 0.4, 3.0]);
  const v = new Float32Array([-1, 1, 0, 0.2]);
  const raw = cosine.predictXStartFromEps(x, t, eps);
  const out = cosine.pMeanVariance(x, t, { eps, v }, { clipDenoised: true });
  const clipped = Array.from(raw, (e) => Math.min(1, Math.max(-1, e)));
  closeArrays(out.predXStart, clipped, 0, "clipped x₀");
  const c1 = cosine.posteriorMeanCoef1[t];
  const c2 = cosine.posteriorMeanCoef2[t];
  closeArrays(
    out.mean,
    clipped.map((x0, i) => c1 * x0 + c2 * x[i]),
    1e-6,
    "mean",
  );
  closeArrays(out.logVariance, cosine.learnedRangeLogVariance(t, v), 0, "log variance");
  assert.ok(
    raw.some((e) => Math.abs(e) > 1),
    "the example exercises clipping",
  );

  // denoisedFn runs before clipping and sees the original timestep.
  const spaced = GaussianDiffusion.fromSchedule("squaredcos_cap_v2", 1000, "10");
  const seen: number[] = [];
  const doubled = spaced.pMeanVariance(
    x,
    3,
    { eps, v },
    {
      clipDenoised: true,
      denoisedFn: (x0, tOrig) => {
        seen.push(tOrig);
        return x0.map((e) => 2 * e);
      },
    },
  );
  assert.deepEqual(seen, [spaced.timestepMap[3]]);
  assert.ok(doubled.predXStart.every((e) => e >= -1 && e <= 1));

  assert.throws(() => cosine.pMeanVariance(x, t, { eps }, { clipDenoised: false }), /variance output/);
  const fixed = cosine.pMeanVariance(x, t, { eps }, { clipDenoised: false, variance: "fixed-small" });
  closeArrays(fixed.logVariance, new Array(4).fill(cosine.posteriorLogVarianceClipped[t]), 1e-6, "fixed-small");
});

test("forceKnownRegion keeps the image where the mask is 1 (mask broadcast over channels)", () => {
  // One image, 2 channels, 2 pixels; mask [1, 1, 1, 2].
  const image = new Float32Array([0.1, 0.2, 0.3, 0.4]);
  const mask = new Float32Array([1, 0]);
  const fn = forceKnownRegion(image, mask, [1, 2, 1, 2]);
  assert.deepEqual([...fn(new Float32Array([9, 8, 7, 6]), 0)], [0.1, 8, 0.3, 6].map(Math.fround));
  assert.throws(() => forceKnownRegion(image, new Float32Array(3), [1, 2, 1, 2]), /mask/);
});
