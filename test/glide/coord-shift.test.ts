// coord_shift (our extension): each residual block's FiLM also shifts its channels by a·x + b·y, with
// a and b read from the timestep-and-caption embedding. Zero weights (its initialization) compute
// what the model without it computes, so a trained model continues with it; its weights get a
// first-order gradient at once, which matches a finite difference of the loss.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { evaluateLossAndGradients } from "../../packages/glide-ts/src/train/loss-gradients.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { noisyWeights, SMALL_TEXT2IM, smallUNetFeeds, type Weights } from "./small-model.ts";

const base = { ...SMALL_TEXT2IM, dropout: 0 };

const SHIFT_BIAS = "input_blocks.1.0.coord_shift.bias";

test("coord_shift weights missing from a file are zero: the same output as the model without; non-zero ones move it", async () => {
  const rng = new Rng(4);
  const plainWeights = noisyWeights(new GlideModel(resolveConfig(base), { init: 3 }), rng);
  const shifted = new GlideModel(resolveConfig({ ...base, coord_shift: true }), { init: 3 });
  const shiftNames = [...shifted.params.params.keys()].filter((name) => name.includes("coord_shift"));
  assert.ok(shiftNames.includes(SHIFT_BIAS), shiftNames.join(" "));
  assert.equal(shiftNames.length, 2 * 10, "a weight and a bias in each of the 10 residual blocks");
  // A file without coord_shift weights loads into a coord_shift configuration with them zero.
  const withShift = (bias: number) => {
    const state: Weights = new Map(plainWeights);
    if (bias !== 0) {
      const shape = [...shifted.params.params.get(SHIFT_BIAS)!.shape];
      state.set(SHIFT_BIAS, { data: new Float32Array(shape[0]!).fill(bias), shape });
    }
    return GlideModel.fromStateDict(resolveConfig({ ...base, coord_shift: true }), state, "shifted");
  };
  const feeds = smallUNetFeeds(rng);

  const run = async (model: GlideModel) => {
    const session = await model.compileUNet(2, { threads: 1 });
    const out = (await session.run(feeds)).out as Float32Array;
    await session.release();
    return out;
  };
  const expected = await run(GlideModel.fromStateDict(resolveConfig(base), plainWeights, "plain"));
  const largestDifference = (a: Float32Array) =>
    a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - expected[i]!)), 0);
  assert.ok(largestDifference(await run(withShift(0))) < 1e-6, "zero coord_shift weights");
  assert.ok(largestDifference(await run(withShift(0.5))) > 1e-3, "a non-zero coord_shift bias changes the output");
});

test("coord_shift's gradient at its zero start is non-zero and matches a finite difference of the loss", async () => {
  const rng = new Rng(8);
  const config = resolveConfig({ ...base, coord_shift: true });
  const weights = noisyWeights(new GlideModel(config, { init: 5 }), rng);
  const bias = weights.get(SHIFT_BIAS)!;
  bias.data.fill(0);
  const batch = 2;
  const size = base.image_size;
  const feeds = {
    x_start: Float32Array.from({ length: batch * 3 * size * size }, (_, i) => (i % size < size / 2 ? 0.8 : -0.8)),
    timesteps: BigInt64Array.from([900n, 300n]),
    noise: Float32Array.from({ length: batch * 3 * size * size }, () => rng.normal()),
    tokens: BigInt64Array.from({ length: batch * base.text_ctx }, (_, i) => BigInt(100 + i)),
    mask: Uint8Array.from({ length: batch * base.text_ctx }, (_, i) => (i % base.text_ctx < 5 ? 1 : 0)),
  };
  const lossWith = async (delta: Float32Array | null) => {
    const state: Weights = new Map(weights);
    if (delta) state.set(SHIFT_BIAS, { data: bias.data.map((v, i) => v + delta[i]!), shape: bias.shape });
    return evaluateLossAndGradients(GlideModel.fromStateDict(config, state, "shifted"), feeds, { threads: 1 });
  };
  const at = await lossWith(null);
  const grad = at.grads.get(SHIFT_BIAS)!;
  const norm = Math.sqrt(grad.reduce((s, v) => s + v * v, 0));
  assert.ok(norm > 1e-4, `the coord_shift bias gets a gradient at zero: ${norm}`);
  // Along the gradient's own direction, a step h changes the loss by about h·|grad|.
  const h = 0.05;
  const direction = grad.map((v) => v / norm);
  const plus = (await lossWith(direction.map((v) => h * v))).meanLoss;
  const minus = (await lossWith(direction.map((v) => -h * v))).meanLoss;
  const numeric = (plus - minus) / (2 * h);
  assert.ok(Math.abs(numeric - norm) < 0.05 * norm, `finite difference ${numeric}, gradient ${norm}`);
});
