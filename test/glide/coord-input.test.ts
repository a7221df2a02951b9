// coord_input (our extension): two input channels with each pixel's x and y. A model given another's
// weights with zero weights on those channels computes exactly what that model computes, which is
// how a model without them continues training with them; with non-zero weights the output moves.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig, storedConfig, unetStructure } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { pixelCoordinates } from "../../packages/glide-ts/src/nn/pixel-coordinates.ts";
import { CompiledGraph } from "../../packages/glide-ts/src/runtime/session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { noisyWeights, SMALL_TEXT2IM, smallUNetFeeds } from "./small-model.ts";

const base = SMALL_TEXT2IM;

test("pixel coordinates run from -1 to 1, x across and y down", async () => {
  const coords = pixelCoordinates(3, 5);
  const compiled = await CompiledGraph.compile({ c: coords }, { threads: 1 });
  const c = (await compiled.run({})).c as Float32Array;
  await compiled.release();
  assert.deepEqual(Array.from(c.subarray(0, 5)), [-1, -0.5, 0, 0.5, 1], "x along the first row");
  assert.deepEqual(Array.from(c.subarray(15, 30).filter((_, i) => i % 5 === 0)), [-1, 0, 1], "y down the first column");
  assert.equal(unetStructure(resolveConfig({ ...base, coord_input: true })).inChannels, 5);
  assert.equal(storedConfig({ ...base }).coord_input, false, "files written before it read as without");
});

async function unetOut(model: GlideModel, feeds: Record<string, Float32Array>): Promise<Float32Array> {
  const session = await model.compileUNet(2, { threads: 1 });
  const out = (await session.run(feeds)).out as Float32Array;
  await session.release();
  return out;
}

test("zero weights on the coordinate channels: the same output as the model without them", async () => {
  const plain = new GlideModel(resolveConfig(base), { init: 3 });
  const rng = new Rng(9);
  const weights = noisyWeights(plain, rng);
  const withCoords = (scale: number) => {
    const state = new Map(weights);
    const conv = weights.get("input_blocks.0.0.weight")!;
    const [o, c, kh, kw] = conv.shape as [number, number, number, number];
    const wide = new Float32Array(o * (c + 2) * kh * kw);
    for (let i = 0; i < o; i++) {
      wide.set(conv.data.subarray(i * c * kh * kw, (i + 1) * c * kh * kw), i * (c + 2) * kh * kw);
      for (let k = c * kh * kw; k < (c + 2) * kh * kw; k++)
        wide[i * (c + 2) * kh * kw + k] = scale * (rng.uniform() - 0.5);
    }
    state.set("input_blocks.0.0.weight", { data: wide, shape: [o, c + 2, kh, kw] });
    return GlideModel.fromStateDict(resolveConfig({ ...base, coord_input: true }), state, "widened");
  };
  const narrow = GlideModel.fromStateDict(resolveConfig(base), weights, "plain");
  const feeds = smallUNetFeeds(rng);

  const expected = await unetOut(narrow, feeds);
  const largestDifference = (a: Float32Array) =>
    a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - expected[i]!)), 0);
  // Equal up to the order of the conv's float sums (measured: 0 here).
  const same = largestDifference(await unetOut(withCoords(0), feeds));
  assert.ok(same < 1e-6, `zero coordinate weights: ${same}`);
  const moved = largestDifference(await unetOut(withCoords(1), feeds));
  assert.ok(moved > 1e-3, `non-zero coordinate weights change the output (${moved})`);
});
