// The objective's pieces on their own: the decoder likelihood's edge cases and the KL against
// hand-computed values, the hybrid loss against the diffusion layer's float math, and the
// stop-gradient that keeps the bound's gradient off the ε output.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { discretizedGaussianLogLikelihood, normalKl } from "../../packages/glide-ts/src/train/loss-terms.ts";
import { hybridLoss, qSample, stepCoefficients, vbTermsBpd } from "../../packages/glide-ts/src/train/objective.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { assertClose, runGraph } from "../graph/helpers.ts";

test("discretized Gaussian log-likelihood: edge bins, interior bins and the 1e-12 floor match hand-computed values", async () => {
  const ln = Math.log;
  // [x, mean, log scale, log-likelihood computed by hand in float64 with the tanh CDF approximation]
  const cases: [number, number, number, number][] = [
    [-1, -1, ln(0.01), -0.42692723439625857], // lowest level: log CDF(x + 1/255), all mass below
    [1, 1, ln(0.01), -0.42692723439625857], // highest level: log(1 − CDF(x − 1/255)), all mass above
    [0, 0, ln(0.01), -1.1873711714852098], // interior: log(CDF(+) − CDF(−))
    [0, 0.5, ln(0.01), ln(1e-12)], // the bin holds no mass: clamped at 1e-12
    [-1, 0.5, ln(0.01), ln(1e-12)], // edge bin, mass far above: clamped
    [1, -0.5, ln(0.01), ln(1e-12)], // edge bin, mass far below: clamped
    [-0.9921568627450981, -0.99, ln(0.02), -1.8672217011190138], // second level is interior
    [0, 0, 0, -5.76705747360343],
    [0.3, 0.25, ln(0.1), -3.5901774158104254],
  ];
  const n = cases.length;
  const col = (k: number) =>
    g.constant(
      Float32Array.from(cases, (c) => c[k]!),
      [n],
    );
  const { ll } = await runGraph({ ll: discretizedGaussianLogLikelihood(col(0), col(1), col(2)) });
  assertClose(
    ll as Float32Array,
    cases.map((c) => c[3]),
    { atol: 1e-5, rtol: 1e-5 },
    "log-likelihood",
  );
});

test("normal KL matches hand-computed values", async () => {
  const { kl } = await runGraph({
    kl: normalKl(
      g.constant([0, 0.5, 1]),
      g.constant([0, -2, 0.3]),
      g.constant([1, 0.25, 1]),
      g.constant([1, -1.5, 0.3]),
    ),
  });
  assertClose(kl as Float32Array, [0.36787944117144233, 0.19331811330438123, 0], { atol: 1e-6, rtol: 1e-6 }, "KL");
});

/** The hybrid loss computed on the host in float64 from the diffusion layer's tables. */
function hostHybridLoss(
  diffusion: ReturnType<typeof createDiffusion>,
  x0: Float32Array,
  noise: Float32Array,
  out: Float32Array,
  timesteps: number[],
): { mse: number[]; vb: number[] } {
  const n = timesteps.length;
  const per = x0.length / n;
  const cdf = (x: number) => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const mse: number[] = [];
  const vb: number[] = [];
  for (let s = 0; s < n; s++) {
    const t = timesteps[s]!;
    const sa = diffusion.sqrtAlphasCumprod[t]!;
    const sb = diffusion.sqrtOneMinusAlphasCumprod[t]!;
    const minLog = diffusion.posteriorLogVarianceClipped[t]!;
    const maxLog = diffusion.logBetas[t]!;
    let sq = 0;
    let kl = 0;
    let nll = 0;
    for (let i = 0; i < per; i++) {
      const x = x0[s * per + i]!;
      const e = noise[s * per + i]!;
      const eps = out[s * 2 * per + i]!;
      const v = out[s * 2 * per + per + i]!;
      const xt = sa * x + sb * e;
      sq += (e - eps) ** 2;
      const pred = diffusion.sqrtRecipAlphasCumprod[t]! * xt - diffusion.sqrtRecipm1AlphasCumprod[t]! * eps;
      const mean = diffusion.posteriorMeanCoef1[t]! * pred + diffusion.posteriorMeanCoef2[t]! * xt;
      const trueMean = diffusion.posteriorMeanCoef1[t]! * x + diffusion.posteriorMeanCoef2[t]! * xt;
      const frac = (v + 1) / 2;
      const logVar = frac * maxLog + (1 - frac) * minLog;
      kl += 0.5 * (-1 + logVar - minLog + Math.exp(minLog - logVar) + (trueMean - mean) ** 2 * Math.exp(-logVar));
      const inv = Math.exp(-0.5 * logVar);
      const plus = cdf(inv * (x - mean + 1 / 255));
      const minus = cdf(inv * (x - mean - 1 / 255));
      const p = x < -0.999 ? plus : x > 0.999 ? 1 - minus : plus - minus;
      nll -= Math.log(Math.max(p, 1e-12));
    }
    mse.push(sq / per);
    vb.push((t === 0 ? nll : kl) / per / Math.LN2);
  }
  return { mse, vb };
}

test("hybrid loss agrees with a float64 host computation from the diffusion's tables", async () => {
  const diffusion = createDiffusion({ noiseSchedule: "squaredcos_cap_v2", diffusionSteps: 1000 });
  const rng = new Rng(5);
  const shape = [5, 3, 4, 4];
  const size = 5 * 48;
  // 8-bit levels, with some pixels at both edges so the decoder's edge bins are used.
  const x0 = Float32Array.from({ length: size }, () => rng.int(256) / 127.5 - 1);
  x0[0] = -1;
  x0[1] = 1;
  const noise = rng.normalArray(size);
  const out = Float32Array.from({ length: 2 * size }, (_, i) => (i % 96 < 48 ? rng.normal() : Math.tanh(rng.normal())));
  const timesteps = [0, 0, 3, 500, 999];

  const xStart = g.input("x_start", shape);
  const noiseT = g.input("noise", shape);
  const t = g.input("t", [5], "int64");
  const coefficients = stepCoefficients(diffusion, t);
  const terms = hybridLoss({
    xStart,
    noise: noiseT,
    xT: qSample(xStart, noiseT, coefficients),
    timesteps: t,
    modelOutput: g.input("out", [5, 6, 4, 4]),
    coefficients,
  });
  const result = await runGraph(
    { mse: terms.mse, vb: terms.vb, loss: terms.loss, mean: terms.meanLoss },
    { x_start: x0, noise, t: BigInt64Array.from(timesteps, BigInt), out },
  );
  const host = hostHybridLoss(diffusion, x0, noise, out, timesteps);
  assertClose(result.mse as Float32Array, host.mse, { atol: 1e-6, rtol: 1e-5 }, "mse");
  // At t = 0 the decoder term subtracts two CDF values near 0 or 1 (σ ≈ 0.006 against bins of
  // 2/255): in float32 that cancellation costs a few 1e-4 relative, as it does in the reference.
  const close = { atol: 1e-5, rtol: 1e-3 };
  assertClose(result.vb as Float32Array, host.vb, close, "vb");
  const loss = host.mse.map((m, i) => m + host.vb[i]!);
  assertClose(result.loss as Float32Array, loss, close, "loss");
  assertClose(result.mean as Float32Array, [loss.reduce((a, b) => a + b) / 5], close, "mean loss");
  assertClose((result.vb as Float32Array).subarray(2), host.vb.slice(2), { atol: 1e-6, rtol: 1e-5 }, "vb (KL, t > 0)");
});

test("the bound's gradient reaches only the variance output; the MSE's only the ε output", async () => {
  const diffusion = createDiffusion({ noiseSchedule: "linear", diffusionSteps: 100 });
  const shape = [3, 3, 2, 2];
  const xStart = g.input("x_start", shape);
  const noise = g.input("noise", shape);
  const t = g.input("t", [3], "int64");
  const coefficients = stepCoefficients(diffusion, t);
  const xT = qSample(xStart, noise, coefficients);
  // A toy network: the ε half and the v half each have their own per-channel weight.
  const epsWeight = g.param("eps.weight", [1, 3, 1, 1]);
  const vWeight = g.param("v.weight", [1, 3, 1, 1]);
  const modelOutput = g.concat([g.mul(xT, epsWeight), g.tanh(g.mul(xT, vWeight))], 1);
  const terms = hybridLoss({ xStart, noise, xT, timesteps: t, modelOutput, coefficients });
  const wrt = [epsWeight, vWeight];
  const [vbEps, vbV] = g.gradients(g.sum(terms.vb), wrt) as [g.Tensor, g.Tensor];
  const [mseEps, mseV] = g.gradients(g.sum(terms.mse), wrt) as [g.Tensor, g.Tensor];
  const [lossEps] = g.gradients(g.sum(terms.loss), wrt) as [g.Tensor, g.Tensor];
  // Without the stop-gradient the bound would train ε too: the control case.
  const [eps, v] = g.split(modelOutput, 1, [3, 3]) as [g.Tensor, g.Tensor];
  const attached = vbTermsBpd({ xStart, xT, timesteps: t, eps, v, coefficients });
  const [attachedEps] = g.gradients(g.sum(attached), wrt) as [g.Tensor, g.Tensor];

  const rng = new Rng(11);
  const r = await runGraph(
    { vbEps, vbV, mseEps, mseV, lossEps, attachedEps },
    {
      x_start: Float32Array.from({ length: 36 }, () => rng.int(256) / 127.5 - 1),
      noise: rng.normalArray(36),
      t: BigInt64Array.from([0n, 40n, 99n]),
      "eps.weight": Float32Array.of(0.5, -0.3, 0.8),
      "v.weight": Float32Array.of(0.2, 0.4, -0.6),
    },
    { params: "inputs" },
  );
  const norm = (x: ArrayLike<number>) => Math.hypot(...Array.from(x));
  assert.deepEqual(Array.from(r.vbEps as Float32Array), [0, 0, 0], "d vb / d ε-weights must be exactly zero");
  assert.deepEqual(Array.from(r.mseV as Float32Array), [0, 0, 0], "d mse / d v-weights must be exactly zero");
  assert.ok(norm(r.vbV as Float32Array) > 1e-3, "the bound must train the variance output");
  assert.ok(norm(r.mseEps as Float32Array) > 1e-3, "the MSE must train the ε output");
  assertClose(r.lossEps as Float32Array, r.mseEps as Float32Array, { atol: 0, rtol: 0 }, "d loss / d ε-weights");
  assert.ok(norm(r.attachedEps as Float32Array) > 1e-3, "control: an attached ε would get a gradient from the bound");
});
