// `glide info`: parameter count, dtypes and the configuration a checkpoint's shapes imply, for
// .pt and .safetensors; the inference itself on every preset, the released shapes and unusual
// options; one-line errors for missing and corrupt files.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { inspectCheckpoint } from "../../packages/app/src/cli/commands/info.ts";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import {
  compareShapes,
  configFromInferred,
  InferConfigError,
  inferConfig,
  isExactMatch,
  matchingPresets,
} from "../../packages/glide-ts/src/glide/infer-config.ts";
import { parameterShapes } from "../../packages/glide-ts/src/glide/model.ts";
import { PRESET_NAMES, presetConfig } from "../../packages/glide-ts/src/glide/presets.ts";
import { convertToSafetensors } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { fixtureManifest } from "../fixtures.ts";
import { FIXTURES, glide } from "./glide-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "glide-info-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const manifest = fixtureManifest<{
  cases: Record<string, { config: Record<string, unknown>; params: number }>;
}>();
const asShapes = (m: ReadonlyMap<string, number[]>) => new Map([...m].map(([k, shape]) => [k, { shape }]));

/** The keys of `glide info` that a configuration determines, as the reference names them. */
const INFERRED_KEYS = [
  "image_size",
  "num_channels",
  "num_res_blocks",
  "attention_resolutions",
  "use_scale_shift_norm",
  "resblock_updown",
  "text_ctx",
  "xf_width",
  "xf_layers",
  "xf_final_ln",
  "xf_padding",
  "inpaint",
  "super_res",
] as const;

test("info --json on text2im.pt: 1666582 parameters, float32, and the fixture's configuration", () => {
  const run = glide("info", "--json", join(FIXTURES, "text2im.pt"));
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  const c = manifest.cases.text2im!;
  assert.equal(info.parameters, 1666582);
  assert.equal(info.parameters, c.params);
  assert.equal(info.format, "torch");
  assert.deepEqual(info.dtypes, [{ dtype: "float32", tensors: info.tensors, parameters: 1666582 }]);
  assert.equal(info.config.variant, "text2im");
  assert.equal(info.config.channel_mult, c.config.channel_mult);
  for (const key of INFERRED_KEYS) assert.equal(info.config[key], c.config[key], key);
  assert.deepEqual(info.presets, []);
  assert.equal(info.verified, true);
  assert.ok(info.notInferable.includes("num_head_channels"), "heads are listed as not inferable");
});

test("info prints the count, dtype and configuration as text", () => {
  const run = glide("info", join(FIXTURES, "text2im.pt"));
  assert.equal(run.code, 0, run.stderr);
  for (const line of [
    /^parameters +1666582 \(1\.67 M\)/m,
    /^dtype +float32/m,
    /^variant +text2im \(3 input channels\)/m,
    /^num_channels +32$/m,
    /^num_res_blocks +1$/m,
    /^channel_mult +1,2$/m,
    /^attention_resolutions +16,8$/m,
    /^num_heads\/num_head_channels +not inferable/m,
    /^text_ctx +16$/m,
    /^xf_width +16$/m,
    /^xf_layers +2$/m,
    /^xf_final_ln +true$/m,
    /^preset +none matches exactly$/m,
  ]) {
    assert.match(run.stdout, line);
  }
});

test("info tells the four variants apart and reads the fp16 file's dtype", async () => {
  const variants: Record<string, string> = {
    text2im: "text2im",
    inpaint: "inpaint",
    superres: "super-res",
    superres_inpaint: "super-res-inpaint",
  };
  for (const [name, variant] of Object.entries(variants)) {
    const info = await inspectCheckpoint(join(FIXTURES, `${name}.pt`));
    assert.equal(info.config?.variant, variant, name);
    assert.equal(info.parameters, manifest.cases[name]!.params, name);
    assert.equal(info.verified, true, name);
  }
  const fp16 = await inspectCheckpoint(join(FIXTURES, "text2im.fp16.pt"));
  assert.deepEqual(
    fp16.dtypes.map((d) => d.dtype),
    ["float16"],
  );
  assert.equal(fp16.parameters, 1666582);
});

test("info on a converted .safetensors: float32, with the source recorded in its metadata", async () => {
  const out = join(dir, "fp16.safetensors");
  await convertToSafetensors(join(FIXTURES, "text2im.fp16.pt"), out);
  const run = glide("info", "--json", out);
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  assert.equal(info.format, "safetensors");
  assert.equal(info.parameters, 1666582);
  assert.deepEqual(
    info.dtypes.map((d: { dtype: string }) => d.dtype),
    ["float32"],
  );
  assert.equal(info.metadata.source_dtype, "float16");
  assert.equal(info.metadata.source_file, "text2im.fp16.pt");
  assert.equal(info.config.num_channels, 32);
});

test("info: missing, truncated and foreign files are one line on stderr", () => {
  const truncatedPt = join(dir, "cut.pt");
  writeFileSync(truncatedPt, readFileSync(join(FIXTURES, "text2im.pt")).subarray(0, 4096));
  const truncatedSt = join(dir, "cut.safetensors");
  writeFileSync(truncatedSt, readFileSync(join(FIXTURES, "text2im.io.safetensors")).subarray(0, 2000));
  const empty = join(dir, "empty.pt");
  writeFileSync(empty, "");
  for (const [path, message] of [
    [join(dir, "missing.pt"), /missing\.pt: no such file/],
    [truncatedPt, /cut\.pt: not a zip archive, or truncated/],
    [truncatedSt, /cut\.safetensors: .*(truncated|outside)/],
    [empty, /empty\.pt: empty file/],
    [dir, /is a directory/],
  ] as const) {
    const run = glide("info", path);
    assert.equal(run.code, 1, `${path}: exit code`);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /^glide: [^\n]*\n$/, `one line: ${run.stderr}`);
    assert.equal(run.stdout, "");
  }
});

test("a state dict that is not a GLIDE network still gets its count and dtype, and says why", async () => {
  const { writeSafetensors } = await import("../../packages/glide-ts/src/io/safetensors.ts");
  const path = join(dir, "other.safetensors");
  await writeSafetensors(path, {
    "encoder.weight": { shape: [2, 3], data: new Float32Array(6), sourceDtype: "float32" },
  });
  const info = await inspectCheckpoint(path);
  assert.equal(info.parameters, 6);
  assert.equal(info.config, null);
  assert.match(info.configError!, /no 'input_blocks\.0\.0\.weight'/);
});

test("inference: each preset and each released model is recognised exactly", () => {
  for (const name of PRESET_NAMES) {
    const shapes = asShapes(parameterShapes(presetConfig(name)));
    const inferred = inferConfig(shapes);
    assert.deepEqual(matchingPresets(shapes, inferred), [name], name);
    const preset = presetConfig(name);
    for (const key of INFERRED_KEYS) assert.equal(inferred[key], preset[key], `${name}: ${key}`);
  }
  const official = JSON.parse(readFileSync(join(FIXTURES, "official-shapes.json"), "utf-8")) as Record<
    string,
    { shapes: Record<string, number[]> }
  >;
  for (const [name, o] of Object.entries(official)) {
    const shapes = asShapes(new Map(Object.entries(o.shapes)));
    const inferred = inferConfig(shapes);
    assert.deepEqual(matchingPresets(shapes, inferred), [name], name);
    assert.equal(inferred.channel_mult, name.startsWith("base") ? "1,2,3,4" : "1,1,2,2,4,4", name);
  }
});

test("inference round-trips unusual options: the inferred configuration rebuilds every shape", () => {
  const base = manifest.cases.text2im!.config;
  const options: Record<string, unknown>[] = [
    {},
    { resblock_updown: false },
    { use_scale_shift_norm: false },
    { xf_width: 0 },
    { xf_final_ln: false, xf_padding: false },
    { xf_layers: 0 },
    { attention_resolutions: "" },
    { attention_resolutions: "8" },
    { image_size: 8, channel_mult: "2", attention_resolutions: "8" },
    { image_size: 64, channel_mult: "1,2,3,4", num_res_blocks: 3, attention_resolutions: "32", resblock_updown: false },
    { inpaint: true, super_res: true, resblock_updown: false },
  ];
  for (const o of options) {
    const config = resolveConfig({ ...base, ...o });
    const shapes = asShapes(parameterShapes(config));
    const inferred = inferConfig(shapes);
    const label = JSON.stringify(o);
    assert.ok(isExactMatch(compareShapes(parameterShapes(configFromInferred(inferred)), shapes)), label);
    for (const key of INFERRED_KEYS) {
      if (/^(text_ctx|xf_)/.test(key) && key !== "xf_width" && config.xf_width === 0) continue;
      if (key === "resblock_updown" && inferred.resblock_updown === null) continue;
      assert.equal(inferred[key], config[key], `${label}: ${key}`);
    }
    assert.equal(inferred.channel_mult, config.channel_mult, label);
  }
  assert.throws(() => inferConfig(new Map([["x", { shape: [1] }]])), InferConfigError);
  const fiveChannels = asShapes(parameterShapes(resolveConfig(base)));
  fiveChannels.set("input_blocks.0.0.weight", { shape: [32, 5, 3, 3] });
  assert.throws(() => inferConfig(fiveChannels), /takes 5 channels/);
});
