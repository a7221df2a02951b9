// Configuration options beyond the fixtures' values: each changes the parameters as the reference's
// module structure says, and each builds a network that runs.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type GlideConfig,
  GlideConfigError,
  resolveConfig,
  unetStructure,
} from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel, parameterShapes } from "../../packages/glide-ts/src/glide/model.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { StateDictMismatchError } from "../../packages/glide-ts/src/io/check-state-dict.ts";
import { FedDropoutNoise } from "../../packages/glide-ts/src/nn/dropout.ts";
import type { HostArray } from "../../packages/glide-ts/src/runtime/session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { fixtureManifest } from "../fixtures.ts";

/** The fixtures' tiny configuration (16×16, 32 channels, two levels, attention at 16 and 8) with changes. */
const tiny = (overrides: Record<string, unknown> = {}): GlideConfig =>
  resolveConfig({ ...fixtureManifest().cases.text2im!.config, ...overrides });

test("resblock_updown false: plain Downsample (op) and Upsample (conv) layers with convolutions", () => {
  const shapes = parameterShapes(tiny({ resblock_updown: false }));
  assert.deepEqual(shapes.get("input_blocks.2.0.op.weight"), [32, 32, 3, 3]);
  assert.deepEqual(shapes.get("output_blocks.1.2.conv.weight"), [64, 64, 3, 3]);
  assert.ok(![...shapes.keys()].some((k) => k.startsWith("input_blocks.2.0.in_layers")));
  const updown = parameterShapes(tiny());
  assert.deepEqual(updown.get("input_blocks.2.0.in_layers.2.weight"), [32, 32, 3, 3]);
  assert.deepEqual(updown.get("output_blocks.1.2.out_layers.3.weight"), [64, 64, 3, 3]);
});

test("use_scale_shift_norm false: the embedding projects to out_channels, not twice that", () => {
  assert.deepEqual(
    parameterShapes(tiny({ use_scale_shift_norm: false })).get("input_blocks.1.0.emb_layers.1.weight"),
    [32, 128],
  );
  assert.deepEqual(parameterShapes(tiny()).get("input_blocks.1.0.emb_layers.1.weight"), [64, 128]);
});

test("text options: final LayerNorm, padding embedding, and no text at all (xf_width 0)", () => {
  const base = parameterShapes(tiny());
  assert.deepEqual(base.get("final_ln.weight"), [16]);
  assert.deepEqual(base.get("padding_embedding"), [16, 16]);
  assert.deepEqual(base.get("token_embedding.weight"), [50257, 16]);
  assert.deepEqual(base.get("transformer_proj.weight"), [128, 16]);
  assert.ok(!parameterShapes(tiny({ xf_final_ln: false })).has("final_ln.weight"));
  const noPadding = new GlideModel(tiny({ xf_padding: false }));
  assert.ok(!noPadding.params.shapes().has("padding_embedding"));
  assert.deepEqual(Object.keys(noPadding.textEncoderGraph(1).inputs), ["tokens"]);

  const noText = new GlideModel(tiny({ xf_width: 0 }));
  const keys = [...noText.params.shapes().keys()];
  assert.ok(!keys.some((k) => /embedding|transformer|final_ln|encoder_kv/.test(k)));
  assert.equal(noText.textEncoder, null);
  assert.deepEqual(Object.keys(noText.unetGraph(1).inputs), ["x", "timesteps"]);
  assert.throws(() => noText.textEncoderGraph(1), /no text encoder/);
});

test("variants add input channels: inpaint +4, super-res +3, both +7", () => {
  const inChannels = (o: Record<string, unknown>) => parameterShapes(tiny(o)).get("input_blocks.0.0.weight")![1];
  assert.equal(inChannels({}), 3);
  assert.equal(inChannels({ inpaint: true }), 7);
  assert.equal(inChannels({ super_res: true }), 6);
  assert.equal(inChannels({ inpaint: true, super_res: true }), 10);
});

test("channel_mult defaults per image size as the reference; other sizes need it spelled out", () => {
  const c = modelDefaults();
  assert.deepEqual(unetStructure({ ...c, image_size: 64 }).channelMult, [1, 2, 3, 4]);
  assert.deepEqual(unetStructure({ ...c, image_size: 128 }).channelMult, [1, 1, 2, 3, 4]);
  assert.deepEqual(unetStructure({ ...c, image_size: 256 }).channelMult, [1, 1, 2, 2, 4, 4]);
  assert.throws(() => resolveConfig({ image_size: 32 }), /image_size 32 has no default channel_mult/);
  assert.throws(() => resolveConfig({ image_size: 32, channel_mult: "1,2" }), GlideConfigError);
  assert.deepEqual(
    unetStructure(resolveConfig({ image_size: 32, channel_mult: "1,2,2", attention_resolutions: "16,4" })).attentionDs,
    [2, 8],
  );
  assert.throws(() => resolveConfig({ dropout: 1 }), /dropout must be a number in \[0, 1\)/);
  assert.throws(() => resolveConfig({ xf_padding: "yes" }), /xf_padding must be true or false/);
  assert.throws(() => resolveConfig({ xf_heads: 3 }), /xf_width 512 must be divisible by xf_heads 3/);
});
const modelDefaults = () => resolveConfig();

async function runModel(config: GlideConfig, batch = 2): Promise<Float32Array> {
  // Random values everywhere: the default init zeroes proj_out and out.2, hiding attention and the output.
  const init = new Rng(5);
  const model = new GlideModel(config, {
    init: (_name, shape) => init.normalArray(g.numel(shape)).map((v) => v * 0.2),
  });
  const rng = new Rng(9);
  const feeds: Record<string, HostArray> = {};
  if (model.textEncoder) {
    const text = await model.compileTextEncoder(batch, { threads: 1 });
    const ctx = config.text_ctx;
    const tokens = BigInt64Array.from({ length: batch * ctx }, (_, i) => BigInt(i % ctx < 3 ? 100 + i : 50256));
    const mask = Uint8Array.from({ length: batch * ctx }, (_, i) => (i % ctx < 3 ? 1 : 0));
    const textOut = await text.run(model.textEncoder.usesMask ? { tokens, mask } : { tokens });
    feeds.xf_proj = textOut.xf_proj!;
    feeds.xf_out = textOut.xf_out!;
  }
  const { inputs } = model.unetGraph(batch);
  for (const [name, t] of Object.entries(inputs)) {
    if (feeds[name]) continue;
    feeds[name] = name === "timesteps" ? new Float32Array([10, 900]) : rng.normalArray(g.numel(t.shape));
  }
  const unet = await model.compileUNet(batch, { threads: 1 });
  const out = (await unet.run(feeds)).out as Float32Array;
  assert.equal(out.length, batch * 6 * config.image_size ** 2);
  assert.ok(out.every(Number.isFinite));
  return out;
}

test("every option combination builds and runs", async () => {
  const variants: Record<string, unknown>[] = [
    { resblock_updown: false, use_scale_shift_norm: false },
    { num_head_channels: -1, num_heads: 2, num_heads_upsample: 4 },
    { xf_final_ln: false, xf_padding: false, inpaint: true },
    { xf_width: 0, super_res: true },
    { inpaint: true, super_res: true, num_res_blocks: 2, attention_resolutions: "8" },
  ];
  for (const v of variants) await runModel(tiny(v));
  // Attention heads are not visible in the parameters; they must change the output.
  const oneHead = await runModel(tiny({ num_head_channels: -1, num_heads: 1 }));
  const twoHeads = await runModel(tiny({ num_head_channels: -1, num_heads: 2, num_heads_upsample: 2 }));
  assert.ok(
    oneHead.some((v, i) => Math.abs(v - twoHeads[i]!) > 1e-4),
    "one and two heads give the same output",
  );
});

test("training graphs take one dropout-noise input per ResBlock", () => {
  const model = new GlideModel(tiny({ dropout: 0.1 }));
  const noise = new FedDropoutNoise();
  model.unetGraph(2, { dropout: noise });
  const resBlocks = new Set(
    [...model.params.shapes().keys()]
      .filter((k) => k.endsWith("in_layers.0.weight"))
      .map((k) => k.split(".in_layers")[0]),
  );
  assert.equal(noise.inputs.length, resBlocks.size);
  assert.equal(new FedDropoutNoise().inputs.length, 0);
});

test("a state dict that does not fit is reported in one error listing every problem", () => {
  const config = tiny();
  const sd = new Map(
    [...parameterShapes(config)].map(([k, shape]) => [k, { shape, data: new Float32Array(g.numel(shape)) }]),
  );
  sd.delete("out.2.bias");
  sd.set("time_embed.0.weight", { shape: [1, 1], data: new Float32Array(1) });
  sd.set("unexpected.weight", { shape: [2], data: new Float32Array(2) });
  assert.throws(
    () => GlideModel.fromStateDict(config, sd, "model.pt"),
    (e: unknown) =>
      e instanceof StateDictMismatchError &&
      /model\.pt/.test(e.message) &&
      e.missing.join() === "out.2.bias" &&
      e.unexpected.join() === "unexpected.weight" &&
      e.misshaped[0]?.key === "time_embed.0.weight",
  );
  assert.throws(() => new GlideModel(config).compileUNet(1), /have no value/);
});
