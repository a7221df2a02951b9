// The colour sensitivity (src/eval/colour-sensitivity.ts): exactly 0 when the captions are the same
// (the same noisy pictures for every row), positive and finite when they differ.
import assert from "node:assert/strict";
import { test } from "node:test";
import { colourSensitivity } from "../../packages/eval/src/colour-sensitivity.ts";
import { fixtureModel } from "../pipelines/helpers.ts";

test("colour sensitivity: 0 for one caption repeated, > 0 for different colours", async () => {
  const model = await fixtureModel("text2im");
  const same = await colourSensitivity(model, { threads: 1 }, [["a red square", "a red square"]]);
  assert.deepEqual(same.perTimestep, [0, 0, 0, 0]);
  assert.equal(same.timesteps.length, 4);
  const different = await colourSensitivity(model, { threads: 1 });
  assert.ok(
    different.perTimestep.every((v) => Number.isFinite(v) && v > 0),
    JSON.stringify(different),
  );
  assert.ok(Math.abs(different.mean - different.perTimestep.reduce((a, b) => a + b) / 4) < 1e-12);
});
