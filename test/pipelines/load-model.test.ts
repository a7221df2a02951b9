// loadModel: a checkpoint with a preset, a configuration (object or JSON file), or nothing (the
// preset with the checkpoint's exact shapes); clear errors otherwise.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parameterShapes } from "../../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../../packages/glide-ts/src/glide/presets.ts";
import type { HostTensor } from "../../packages/glide-ts/src/io/host-tensor.ts";
import { writeSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { loadModel } from "../../packages/glide-ts/src/pipelines/load-model.ts";
import { fixtureFiles, tempDir } from "./helpers.ts";

const dir = tempDir();

test("a checkpoint alone is recognized by its parameter shapes (tiny-upsample, as safetensors)", async () => {
  const stateDict = new Map<string, HostTensor>();
  for (const [key, shape] of parameterShapes(presetConfig("tiny-upsample"))) {
    stateDict.set(key, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)), sourceDtype: "float32" });
  }
  const path = join(dir, "tiny-upsample.safetensors");
  await writeSafetensors(path, stateDict);
  const loaded = await loadModel({ checkpoint: path });
  assert.equal(loaded.preset, "tiny-upsample");
  assert.equal(loaded.model.variant, "super-res");
  assert.equal(loaded.checkpoint, path);
});

test("a configuration as a JSON file or an object; overrides of a preset", async () => {
  const { checkpoint, config } = fixtureFiles("inpaint");
  const fromFile = await loadModel({ checkpoint, config });
  assert.equal(fromFile.model.variant, "inpaint");
  assert.equal(fromFile.preset, null);
  const fromObject = await loadModel({ checkpoint, config: { ...fromFile.model.config } });
  assert.equal(fromObject.model.config.image_size, 16);
  // The fixture differs from the "tiny" preset only in sizes: overriding them loads it too.
  const c = fromFile.model.config;
  const overrides = {
    image_size: c.image_size,
    num_channels: c.num_channels,
    channel_mult: c.channel_mult,
    attention_resolutions: c.attention_resolutions,
    num_head_channels: c.num_head_channels,
    text_ctx: c.text_ctx,
    xf_width: c.xf_width,
    xf_heads: c.xf_heads,
    inpaint: true,
  };
  const overridden = await loadModel({ checkpoint, preset: "tiny", config: overrides });
  assert.equal(overridden.preset, "tiny");
  assert.equal(overridden.model.variant, "inpaint");
});

test("what cannot be loaded is said in one line", async () => {
  const { checkpoint, config } = fixtureFiles("text2im");
  await assert.rejects(loadModel({ checkpoint }), /matches no preset.*--config FILE/);
  await assert.rejects(loadModel({ checkpoint, preset: "huge" }), /unknown preset 'huge' \(known: base, /);
  await assert.rejects(loadModel({ checkpoint, preset: "base" }), /does not match the model/);
  await assert.rejects(loadModel({ checkpoint: join(dir, "none.pt"), config }), /none\.pt: no such file/);
  await assert.rejects(
    loadModel({ checkpoint, config: join(dir, "none.json") }),
    /config '.*none\.json': cannot read it/,
  );
  const bad = join(dir, "bad.json");
  writeFileSync(bad, "{ image_size: 16");
  await assert.rejects(loadModel({ checkpoint, config: bad }), /not valid JSON/);
  const unknown = join(dir, "unknown.json");
  writeFileSync(unknown, JSON.stringify({ image_size: 16, colour: "red" }));
  await assert.rejects(loadModel({ checkpoint, config: unknown }), /unknown configuration key 'colour'/);
  writeFileSync(unknown, "[1, 2]");
  await assert.rejects(loadModel({ checkpoint, config: unknown }), /expected a JSON object/);
});
