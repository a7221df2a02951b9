// Loss weighting per timestep (src/train/loss-weighting.ts): the weights against hand-computed
// values, the parser's errors, and the training graph's per-sample loss = w(t)·mse + vb.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isUserError } from "../../packages/glide-ts/src/errors.ts";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { assembleBatch } from "../../packages/glide-ts/src/train/batch.ts";
import {
  formatLossWeighting,
  lossWeights,
  parseLossWeighting,
} from "../../packages/glide-ts/src/train/loss-weighting.ts";
import { buildTrainingGraph, trainStepFor } from "../../packages/glide-ts/src/train/objective-graph.ts";
import { TrainingSession } from "../../packages/glide-ts/src/train/training-session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

// ᾱ = 0.9, 0.5, 0.1: SNR = 9, 1, 1/9.
const ALPHAS = [0.9, 0.5, 0.1];
function close(actual: Float64Array, expected: number[]): void {
  for (const [i, e] of expected.entries()) {
    assert.ok(Math.abs(actual[i]! - e) < 1e-12, `weight ${i}: ${actual[i]} ≠ ${e}`);
  }
}

test("weights: uniform 1; min-snr:γ min(SNR, γ)/SNR; inv-snr:cap 1 + min(1/SNR, cap)", () => {
  close(lossWeights(ALPHAS, parseLossWeighting("uniform")), [1, 1, 1]);
  close(lossWeights(ALPHAS, parseLossWeighting("min-snr")), [5 / 9, 1, 1]);
  close(lossWeights(ALPHAS, parseLossWeighting("min-snr:0.5")), [0.5 / 9, 0.5, 1]);
  close(lossWeights(ALPHAS, parseLossWeighting("inv-snr")), [1 + 1 / 9, 2, 10]);
  close(lossWeights(ALPHAS, parseLossWeighting("inv-snr:4")), [1 + 1 / 9, 2, 5]);
  assert.equal(formatLossWeighting(parseLossWeighting("inv-snr:4")), "inv-snr:4");
  assert.equal(formatLossWeighting(parseLossWeighting("min-snr")), "min-snr:5");
});

test("a bad weighting is a user error naming what is accepted", () => {
  for (const text of ["", "snr", "uniform:2", "min-snr:0", "min-snr:-1", "inv-snr:x", "inv-snr:", "inv-snr:1:2"]) {
    assert.throws(
      () => parseLossWeighting(text),
      (error: Error) => isUserError(error) && /uniform|positive number/.test(error.message),
      text,
    );
  }
});

test("the training graph weighs each sample's ε loss by w(t) and leaves the bound alone", async () => {
  const config = resolveConfig({
    image_size: 8,
    num_channels: 32,
    num_res_blocks: 1,
    channel_mult: "1",
    num_head_channels: 16,
    attention_resolutions: "8",
    text_ctx: 8,
    xf_width: 16,
    xf_layers: 1,
    xf_heads: 2,
    diffusion_steps: 50,
    noise_schedule: "squaredcos_cap_v2",
  });
  const model = new GlideModel(config, { init: 3 });
  const weighting = parseLossWeighting("inv-snr:7");
  const graph = buildTrainingGraph(model, { batch: 3, lossWeighting: weighting, dropout: false });
  const rng = new Rng(5);
  const examples = Array.from({ length: 3 }, (_, i) => ({
    image: Float32Array.from({ length: 3 * 64 }, () => rng.int(256) / 127.5 - 1),
    caption: ["a red circle", "a blue star", ""][i]!,
  }));
  const batch = assembleBatch(graph, examples, new Rng(9));
  // One sample at each end of the schedule and one in the middle.
  batch.feeds.timesteps = BigInt64Array.from([0n, 25n, 49n]);
  const session = await TrainingSession.create(
    trainStepFor(graph),
    { params: new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!])) },
    { threads: 1 },
  );
  try {
    const { extras } = await session.run(batch.feeds, 0);
    const mse = extras.mse as Float32Array;
    const vb = extras.vb as Float32Array;
    const loss = extras.sample_loss as Float32Array;
    const weights = lossWeights(graph.diffusion.alphasCumprod, weighting);
    [0, 25, 49].forEach((t, i) => {
      const expected = weights[t]! * mse[i]! + vb[i]!;
      assert.ok(Math.abs(loss[i]! - expected) <= 1e-5 * expected, `sample ${i}: ${loss[i]} ≠ ${expected}`);
    });
    assert.ok(weights[49]! === 8 && weights[0]! < 1.01, `the cap binds at the noisiest step: ${weights[49]}`);
  } finally {
    await session.release();
  }
});
