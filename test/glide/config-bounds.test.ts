// A configuration read from a file cannot ask for more than a machine holds: every integer key has
// a ceiling, channel_mult too, and a checkpoint whose metadata asks for more is refused in one line
// before anything is built; a mismatched checkpoint's message lists a few keys, not thousands.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { resolveClipConfig } from "../../packages/glide-ts/src/clip/config.ts";
import { ClipError } from "../../packages/glide-ts/src/clip/errors.ts";
import {
  CONFIG_MAXIMA,
  GlideConfigError,
  MAX_ACTIVATION_VALUES,
  resolveConfig,
} from "../../packages/glide-ts/src/glide/config.ts";
import { InferConfigError, inferConfig } from "../../packages/glide-ts/src/glide/infer-config.ts";
import { GlideModel, parameterShapes } from "../../packages/glide-ts/src/glide/model.ts";
import { PRESET_NAMES, presetConfig } from "../../packages/glide-ts/src/glide/presets.ts";
import { glide } from "../cli/glide-cli.ts";
import { tempDir } from "../pipelines/helpers.ts";

const oneLineError =
  (kind: new (...args: never[]) => Error, message: RegExp) =>
  (error: Error): boolean =>
    error instanceof kind && message.test(error.message) && !error.message.includes("\n");

test("each integer key is bounded; the presets and released shapes are inside", () => {
  for (const name of ["base", "upsample", "base-inpaint", "upsample-inpaint", "tiny", "small"] as const) {
    assert.doesNotThrow(() => presetConfig(name), name);
  }
  const cases: [string, unknown, RegExp][] = [
    ["diffusion_steps", 1e9, /diffusion_steps must be at most 10000, got 1000000000/],
    ["xf_layers", 1e6, /xf_layers must be at most 64/],
    ["num_res_blocks", 1000, /num_res_blocks must be at most 16/],
    ["num_channels", 1 << 20, /num_channels must be at most 1024/],
    ["text_ctx", 1e5, /text_ctx must be at most 1024/],
    ["channel_mult", "1,2,4000", /channel_mult entries must be at most 16/],
    ["channel_mult", `${"1,".repeat(40)}1`, /at most 16 positive integers/],
  ];
  for (const [key, value, message] of cases) {
    assert.throws(
      () => resolveConfig({ ...presetConfig("tiny"), [key]: value }),
      (error: Error) =>
        error instanceof GlideConfigError && message.test(error.message) && !error.message.includes("\n"),
      `${key} = ${value}`,
    );
  }
  assert.equal(Object.keys(CONFIG_MAXIMA).length, 11);
});

/** The shipped base model's file with its metadata configuration changed. */
function withConfig(changes: Record<string, unknown>): string {
  const bytes = readFileSync(join(import.meta.dirname, "../../packages/glide-ts/models/glide-ts-base32.safetensors"));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  header.__metadata__.config = JSON.stringify({ ...JSON.parse(header.__metadata__.config), ...changes });
  const text = Buffer.from(JSON.stringify(header), "utf8");
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(text.length));
  const path = join(tempDir(), `hostile-${Object.keys(changes).join("-")}.safetensors`);
  writeFileSync(path, Buffer.concat([out, text, bytes.subarray(8 + headerLength)]));
  return path;
}

test("a checkpoint whose configuration asks for too much is refused in one line, by generate and info", () => {
  for (const changes of [{ diffusion_steps: 1e9 }, { xf_layers: 1e6 }, { num_res_blocks: 1000 }]) {
    const file = withConfig(changes);
    const out = join(tempDir(), "never.png");
    const run = glide("generate", "red heart", "--checkpoint", file, "--no-upsample", "--steps", "2", "--out", out);
    assert.equal(run.code, 1, JSON.stringify(changes));
    const lines = run.stderr.trim().split("\n");
    assert.ok(lines.length <= 3, `${JSON.stringify(changes)}: ${lines.length} lines:\n${run.stderr.slice(0, 500)}`);
    assert.match(run.stderr, /must be at most/, JSON.stringify(changes));
    const info = glide("info", file);
    assert.match(info.stdout, /stored configuration +INVALID: .*must be at most/, `info ${JSON.stringify(changes)}`);
  }
});

test("the presets, the parity fixtures' configurations and the released shapes are all inside the bounds", () => {
  for (const name of PRESET_NAMES) assert.doesNotThrow(() => presetConfig(name), name);
  const fixtures = join(process.cwd(), "../shared/fixtures");
  const glideCases = JSON.parse(readFileSync(join(fixtures, "glide-parity/manifest.json"), "utf8")).cases;
  const clipCases = JSON.parse(readFileSync(join(fixtures, "clip-parity/manifest.json"), "utf8")).cases;
  for (const [name, entry] of Object.entries<{ config?: Record<string, unknown> }>(glideCases)) {
    if (entry.config) assert.doesNotThrow(() => resolveConfig(entry.config), name);
  }
  assert.doesNotThrow(() => resolveConfig(clipCases.base.config), "clip-parity base");
  assert.doesNotThrow(() => resolveClipConfig(clipCases.clip.config), "clip-parity clip");
  assert.doesNotThrow(() => resolveClipConfig(), "the released CLIP");
  const official = JSON.parse(readFileSync(join(fixtures, "glide-parity/official-shapes.json"), "utf8")) as Record<
    string,
    { config: Record<string, unknown>; shapes: Record<string, number[]> }
  >;
  for (const [name, { config, shapes }] of Object.entries(official)) {
    assert.doesNotThrow(() => resolveConfig(config), name);
    const map = new Map(Object.entries(shapes).map(([key, shape]) => [key, { shape }]));
    assert.doesNotThrow(() => inferConfig(map), name);
  }
});

test("several keys over their ceilings: one line naming the first three", () => {
  assert.throws(
    () =>
      resolveConfig({
        ...presetConfig("tiny"),
        diffusion_steps: 1e9,
        xf_layers: 1e6,
        num_res_blocks: 1000,
        num_channels: 1 << 20,
      }),
    oneLineError(
      GlideConfigError,
      /^num_channels must be at most 1024, got 1048576; num_res_blocks must be at most 16, got 1000; xf_layers must be at most 64, got 1000000; and 1 more$/,
    ),
  );
  // Long keys and values are cut short in the message.
  assert.throws(
    () => resolveConfig({ ["k".repeat(10_000)]: 1, ["j".repeat(10_000)]: 2 }),
    (error: Error) => error instanceof GlideConfigError && error.message.length < 200,
  );
  assert.throws(
    () => resolveConfig({ noise_schedule: 5, xf_pool: "x".repeat(100_000) }),
    (error: Error) => error instanceof GlideConfigError && error.message.length < 200,
  );
});

test("a configuration whose largest tensor would not fit is refused before anything is built", () => {
  // Eight levels of eight channels are a few MB of weights, but attention over the 1024×1024 level
  // needs a million × a million weights for each picture.
  const wide = { image_size: 1024, num_channels: 8, channel_mult: "1,1,1,1,1,1,1,1", num_head_channels: 8 };
  assert.throws(
    () => resolveConfig({ ...wide, attention_resolutions: "1024" }),
    oneLineError(GlideConfigError, /attention at 1024×1024 of 1\.10e\+12 values for each picture \(4\.00 TiB/),
  );
  assert.throws(
    () => resolveConfig({ ...wide, attention_resolutions: "128" }),
    oneLineError(GlideConfigError, /attention at 128×128/),
  );
  assert.doesNotThrow(() => resolveConfig({ ...wide, attention_resolutions: "64,32" }));
  // The released upsampler's largest tensor is far inside.
  assert.ok(256 * 256 * 384 * 8 < MAX_ACTIVATION_VALUES);
});

test("a model is not initialized from a configuration of more parameters than the bound", () => {
  // Every key within its ceiling, but 16 384-channel levels: tens of billions of parameters.
  const config = resolveConfig({ ...presetConfig("tiny"), num_channels: 1024, channel_mult: "16,16,16" });
  const started = performance.now();
  assert.throws(
    () => new GlideModel(config, { init: 0 }),
    oneLineError(GlideConfigError, /implies \d+\.\d billion parameters .*; at most 4 billion are allowed/),
  );
  assert.ok(performance.now() - started < 5000, "refused from the shapes, before any allocation");
});

test("shapes that imply more than a configuration allows are not inferred", () => {
  const shapes = new Map([...parameterShapes(presetConfig("tiny"))].map(([key, shape]) => [key, { shape }]));
  for (let layer = 2; layer < 100; layer++) shapes.set(`transformer.resblocks.${layer}.ln_1.weight`, { shape: [128] });
  assert.throws(() => inferConfig(shapes), oneLineError(InferConfigError, /xf_layers 100 \(at most 64\)/));
});

test("a CLIP configuration is bounded too", () => {
  assert.throws(
    () => resolveClipConfig({ n_xf_blocks_text: 1e6, n_embd: 1e6 }),
    oneLineError(ClipError, /CLIP n_embd must be at most 4096, got 1000000; CLIP n_xf_blocks_text must be at most 64/),
  );
  assert.throws(
    () => resolveClipConfig({ image_size: 1024, patch_size: 2 }),
    oneLineError(ClipError, /asks for .* attention weights for each input/),
  );
});

test("a checkpoint whose configuration asks for attention over a huge level is refused in one line", () => {
  const file = withConfig({ image_size: 1024, channel_mult: "1,1,1,1,1,1,1,1", attention_resolutions: "1024" });
  const run = glide("generate", "red heart", "--checkpoint", file, "--no-upsample", "--steps", "2");
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /attention at 1024×1024 .* at most 268435456 \(1 GiB\) are allowed/);
});
