// The validation set and its caption gain: the uncaptioned batches are the captioned ones (same
// images, timesteps and noise) with every caption empty, and the gain compares the two ε errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Dataset, Sample } from "../../packages/glide-ts/src/data/dataset.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { tokenizeCaptions } from "../../packages/glide-ts/src/train/batch-captions.ts";
import { buildTrainingGraph } from "../../packages/glide-ts/src/train/objective-graph.ts";
import { buildValidationSet, captionGain, LossEvaluator } from "../../packages/glide-ts/src/train/validation.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { fixtureModel } from "../pipelines/helpers.ts";

const CAPTIONS = ["a red square", "a blue circle", "a green heart", "a yellow star"];

/** A dataset of noise images with the given captions (only iteration is used). */
function pairs(captions: readonly string[], size: number): Dataset {
  const rng = new Rng(3);
  const samples: Sample[] = captions.map((caption, i) => ({
    key: String(i),
    image: Float32Array.from(rng.normalArray(3 * size * size), (x) => Math.tanh(x)),
    caption,
  }));
  return {
    async *[Symbol.asyncIterator]() {
      yield* samples;
    },
  } as unknown as Dataset;
}

test("the uncaptioned batches are the same noise and timesteps with empty captions", async () => {
  const model = await fixtureModel("text2im");
  const graph = buildTrainingGraph(model, { batch: 2, dropout: false });
  const size = model.config.image_size;
  const set = await buildValidationSet(graph, pairs(CAPTIONS, size), 4, 7);
  assert.equal(set.pairs, 4);
  assert.equal(set.uncaptioned?.length, set.batches.length);
  const empty = tokenizeCaptions(["", ""], model.config.text_ctx);
  set.batches.forEach((batch, i) => {
    const bare = set.uncaptioned![i]!;
    assert.deepEqual(Object.keys(bare).sort(), Object.keys(batch).sort());
    for (const name of Object.keys(batch)) {
      if (name === "tokens") assert.deepEqual(bare[name], empty.tokens);
      else if (name === "mask") assert.deepEqual(bare[name], empty.mask);
      else assert.equal(bare[name], batch[name], `${name} is shared`);
    }
    assert.notDeepEqual(batch.tokens, empty.tokens);
  });

  // The gain's uncaptioned error is that of the same pairs whose captions really are empty.
  const evaluator = await LossEvaluator.create(graph);
  try {
    const params: Record<string, Float32Array> = {};
    for (const p of graph.params) params[g.paramAttrs(p).name] = g.paramAttrs(p).value!;
    const figures = await evaluator.evaluate(set, params);
    const blank = await buildValidationSet(graph, pairs(["", "", "", ""], size), 4, 7);
    const reference = await evaluator.evaluate({ batches: blank.batches, pairs: blank.pairs }, params);
    assert.ok(
      Math.abs(figures.uncaptioned_mse! - reference.mse) < 1e-7,
      `${figures.uncaptioned_mse} vs ${reference.mse}`,
    );
    assert.notEqual(figures.uncaptioned_mse, figures.mse);
    assert.equal(figures.caption_gain, 1 - figures.mse / figures.uncaptioned_mse!);
  } finally {
    await evaluator.release();
  }
});

test("caption gain: the share of the uncaptioned error the captions remove", () => {
  assert.equal(captionGain(0.75, 1), 0.25);
  assert.equal(captionGain(1.2, 1), -0.19999999999999996);
  assert.equal(captionGain(0, 0), 0);
});
