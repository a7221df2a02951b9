// Training graphs of the four variants on a tiny random model: the feeds assembleBatch makes are
// exactly what each graph takes, the same seed gives the same batch, an optimizer step runs and
// lowers the loss on a fixed batch, and a frozen text encoder stays out of the optimizer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { assembleBatch, type TrainingExample } from "../../packages/glide-ts/src/train/batch.ts";
import {
  buildTrainingGraph,
  frozenParamFeeds,
  trainStepFor,
} from "../../packages/glide-ts/src/train/objective-graph.ts";
import { TrainingSession } from "../../packages/glide-ts/src/train/training-session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

const TINY = {
  image_size: 8,
  num_channels: 32,
  num_res_blocks: 1,
  channel_mult: "1",
  num_heads: 1,
  num_head_channels: 16,
  attention_resolutions: "8",
  text_ctx: 8,
  xf_width: 16,
  xf_layers: 1,
  xf_heads: 2,
  diffusion_steps: 50,
  noise_schedule: "squaredcos_cap_v2",
};

function tinyModel(overrides: Record<string, unknown> = {}): GlideModel {
  return new GlideModel(resolveConfig({ ...TINY, ...overrides }), { init: 3 });
}

function examples(n: number, seed: number): TrainingExample[] {
  const rng = new Rng(seed);
  const captions = ["a red flower", "weary face", "a fox", "a blue square"];
  return Array.from({ length: n }, (_, i) => ({
    image: Float32Array.from({ length: 3 * 64 }, () => rng.int(256) / 127.5 - 1),
    caption: captions[i % captions.length]!,
  }));
}

const VARIANTS = [
  { variant: "text2im", overrides: {}, extra: [] },
  { variant: "inpaint", overrides: { inpaint: true }, extra: ["inpaint_mask"] },
  { variant: "super-res", overrides: { super_res: true }, extra: ["low_res"] },
  { variant: "super-res-inpaint", overrides: { inpaint: true, super_res: true }, extra: ["inpaint_mask", "low_res"] },
] as const;

for (const { variant, overrides, extra } of VARIANTS) {
  test(`training graph (${variant}): feeds match the inputs, batches are reproducible, a step runs`, async () => {
    const model = tinyModel({ ...overrides, dropout: 0.1 });
    const graph = buildTrainingGraph(model, { batch: 2, variant });
    const base = ["x_start", "timesteps", "noise", "tokens", "mask", ...extra];
    const names = Object.keys(graph.inputs);
    assert.deepEqual(
      names.filter((n) => !n.startsWith("dropout_noise.")).sort(),
      [...base].sort(),
      `${variant} inputs`,
    );
    assert.ok(graph.dropoutInputs.length > 0, "dropout 0.1 must add dropout inputs");

    const data = examples(2, 1);
    const batch = assembleBatch(graph, data, new Rng(42));
    assert.deepEqual(Object.keys(batch.feeds).sort(), [...names].sort(), "one feed per graph input, no more");
    for (const [name, t] of Object.entries(graph.inputs)) {
      assert.equal(batch.feeds[name]!.length, g.numel(t.shape), `feed '${name}' size`);
    }
    assert.deepEqual(assembleBatch(graph, data, new Rng(42)), batch, "the same seed must give the same batch");
    assert.ok(
      batch.timesteps.every((t) => Number.isInteger(t) && t >= 0 && t < 50),
      `timesteps ${batch.timesteps} must lie in [0, 50)`,
    );

    const session = await TrainingSession.create(
      trainStepFor(graph, { clipGradNorm: 1 }),
      { params: new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!])) },
      { threads: 1 },
    );
    try {
      const step = await session.run(batch.feeds, 1e-4);
      assert.ok(Number.isFinite(step.loss) && step.loss > 0, `loss ${step.loss} must be finite and positive`);
      assert.ok(Number.isFinite(step.gradNorm) && step.gradNorm > 0, `grad norm ${step.gradNorm} must be finite`);
      const perSample = step.extras.sample_loss as Float32Array;
      assert.equal(perSample.length, 2);
      assert.ok(
        Math.abs((perSample[0]! + perSample[1]!) / 2 - step.loss) <= 1e-5 * Math.max(1, step.loss),
        "the loss must be the mean of the per-sample losses",
      );
    } finally {
      await session.release();
    }
  });
}

test("a frozen text encoder is left out of the optimizer and a fixed batch's loss falls", async () => {
  const model = tinyModel();
  const all = buildTrainingGraph(model, { batch: 4 });
  const graph = buildTrainingGraph(model, { batch: 4, freezeTextEncoder: true });
  const frozenNames = graph.frozen.map((p) => g.paramAttrs(p).name);
  for (const name of [
    "positional_embedding",
    "padding_embedding",
    "token_embedding.weight",
    "transformer_proj.weight",
  ]) {
    assert.ok(frozenNames.includes(name), `'${name}' must be frozen`);
  }
  assert.ok(
    frozenNames.every((n) => !n.startsWith("input_blocks.") && !n.startsWith("time_embed.")),
    "U-Net parameters must stay trainable",
  );
  assert.equal(graph.params.length + graph.frozen.length, all.params.length, "every parameter is trained or frozen");
  assert.equal(all.frozen.length, 0);

  // Timesteps away from t = 0, whose decoder term is too steep for a fixed-lr smoke test.
  const batch = assembleBatch(graph, examples(4, 2), new Rng(7), { timesteps: [5, 15, 30, 45] });
  const session = await TrainingSession.create(
    trainStepFor(graph),
    { params: new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!])) },
    { threads: 1 },
  );
  try {
    const feeds = { ...batch.feeds, ...frozenParamFeeds(graph) };
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) losses.push((await session.run(feeds, 2e-3)).loss);
    assert.ok(losses.at(-1)! < 0.8 * losses[0]!, `loss must fall on a fixed batch: ${losses.map((l) => l.toFixed(3))}`);
    assert.ok(
      !(await session.state()).params.has("token_embedding.weight"),
      "frozen parameters must have no optimizer slot",
    );
  } finally {
    await session.release();
  }
});
