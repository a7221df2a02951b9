import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { GlideModel, parameterShapes } from "../../packages/glide-ts/src/glide/model.ts";
import { PRESET_NAMES, presetConfig } from "../../packages/glide-ts/src/glide/presets.ts";
import { countFlops } from "../../packages/glide-ts/src/nn/flops.ts";
import { fixturePath } from "../fixtures.ts";

interface Official {
  config: Record<string, unknown>;
  params: number;
  shapes: Record<string, number[]>;
}
const official = JSON.parse(readFileSync(fixturePath("official-shapes.json"), "utf-8")) as Record<string, Official>;

for (const name of ["base", "upsample", "base-inpaint", "upsample-inpaint"]) {
  test(`preset ${name}: configuration, keys (in state_dict order), shapes and parameter count of the released model`, () => {
    const ref = official[name]!;
    const config = presetConfig(name);
    // xf_pool, coord_input and coord_shift are our extensions: the released models read GLIDE's
    // last position and take no coordinates.
    assert.deepEqual(config, { ...ref.config, xf_pool: "position", coord_input: false, coord_shift: false });
    const shapes = parameterShapes(config);
    assert.deepEqual([...shapes.keys()], Object.keys(ref.shapes));
    assert.deepEqual(Object.fromEntries(shapes), ref.shapes);
    assert.equal(new GlideModel(config).params.count(), ref.params);
  });
}

test("every preset builds its text and U-Net graphs; sizes stay as documented", () => {
  // [parameters in millions, GFLOP of one forward (U-Net + text) at batch 1], as in presets.ts.
  const documented: Record<string, [number, number]> = {
    base: [385.0, 238],
    "base-inpaint": [385.0, 238],
    upsample: [398.4, 1281],
    "upsample-inpaint": [398.4, 1282],
    small: [42.5, 18.4],
    "small-upsample": [12.9, 24.8],
    tiny: [12.8, 2.66],
    "tiny-upsample": [10.7, 6.21],
  };
  for (const name of PRESET_NAMES) {
    const model = new GlideModel(presetConfig(name));
    const unet = model.unetGraph(1);
    const text = model.textEncoderGraph(1);
    assert.deepEqual(unet.outputs.out!.shape, [1, 6, model.config.image_size, model.config.image_size]);
    const gflop = countFlops([unet.outputs.out!, text.outputs.xf_proj!, text.outputs.xf_out!]).total / 1e9;
    const [params, cost] = documented[name]!;
    assert.ok(Math.abs(model.params.count() / 1e6 - params) < 0.06, `${name}: ${model.params.count()} parameters`);
    assert.ok(Math.abs(gflop / cost - 1) < 0.01, `${name}: ${gflop} GFLOP`);
  }
});

test("presets take overrides by reference keyword, and reject unknown names and keys", () => {
  assert.equal(presetConfig("tiny", { inpaint: true }).inpaint, true);
  assert.throws(() => presetConfig("huge"), /unknown preset 'huge'/);
  assert.throws(() => presetConfig("tiny", { num_chanels: 3 }), /unknown configuration key 'num_chanels'/);
});
