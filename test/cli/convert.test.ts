// `glide convert`: .pt → float32 safetensors with every tensor, in key order, with metadata;
// atomic; refuses to overwrite without --force; one-line errors for bad inputs.

import assert from "node:assert/strict";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { loadTorchCheckpoint } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import { shippedModelsDir } from "../../packages/glide-ts/src/models/catalog.ts";
import { FIXTURES, glide } from "./glide-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "glide-convert-"));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const [file, dtype] of [
  ["text2im.pt", "float32"],
  ["text2im.fp16.pt", "float16"],
  ["superres_inpaint.pt", "float32"],
] as const) {
  test(`convert ${file}: every tensor, in key order, float32, with the source in the metadata`, async () => {
    const out = join(dir, `${file}.safetensors`);
    const run = glide("convert", join(FIXTURES, file), out);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`float32 \\(from ${dtype}\\)`));

    const source = await loadTorchCheckpoint(join(FIXTURES, file));
    const converted = await readSafetensors(out);
    assert.deepEqual(converted.names(), [...source.keys()], "key order");
    for (const [name, t] of source) {
      const c = converted.get(name);
      assert.equal(c.dtype, "F32", name);
      assert.deepEqual(c.shape, t.shape, name);
      assert.deepEqual(c.data, t.data, `${name}: values`);
    }
    assert.equal(converted.metadata.source_file, file);
    assert.equal(converted.metadata.source_dtype, dtype);
    assert.equal(converted.metadata.source_format, "torch.save");
  });
}

test("convert refuses to overwrite without --force, and leaves no temporary files", () => {
  const sub = mkdtempSync(join(dir, "overwrite-"));
  const out = join(sub, "model.safetensors");
  writeFileSync(out, "precious");
  const refused = glide("convert", join(FIXTURES, "text2im.pt"), out);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^glide: .*model\.safetensors: already exists \(use --force to overwrite it\)\n$/);
  assert.equal(readFileSync(out, "utf-8"), "precious");

  const forced = glide("convert", "--force", join(FIXTURES, "text2im.pt"), out);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(readFileSync(out, "utf-8"), "precious");
  assert.deepEqual(readdirSync(sub), ["model.safetensors"]);
});

test("convert: a missing, truncated or foreign input is one line on stderr, and no output", () => {
  const out = join(dir, "never.safetensors");
  const truncated = join(dir, "truncated.pt");
  writeFileSync(truncated, readFileSync(join(FIXTURES, "text2im.pt")).subarray(0, 100_000));
  const foreign = join(dir, "notes.txt");
  copyFileSync(join(FIXTURES, "README.md"), foreign);
  for (const [input, message] of [
    [join(dir, "missing.pt"), /missing\.pt: no such file/],
    [truncated, /truncated\.pt: not a zip archive, or truncated/],
    [foreign, /notes\.txt: not a checkpoint/],
  ] as const) {
    const run = glide("convert", input, out);
    assert.equal(run.code, 1, `${input}: exit code`);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /^glide: [^\n]*\n$/, `one line: ${run.stderr}`);
    assert.equal(existsSync(out), false, "no output written");
  }
  const intoMissingDir = glide("convert", join(FIXTURES, "text2im.pt"), join(dir, "no", "such", "x.safetensors"));
  assert.equal(intoMissingDir.code, 1);
  assert.match(intoMissingDir.stderr, /^glide: .*does not exist\n$/);
  const ontoItself = glide("convert", truncated, truncated);
  assert.match(ontoItself.stderr, /would overwrite the input/);
  const missingArgument = glide("convert", join(FIXTURES, "text2im.pt"));
  assert.equal(missingArgument.code, 1);
  assert.match(missingArgument.stderr, /missing required argument 'output'/);
});

test("--force never overwrites the input under another name, nor a shipped model", () => {
  const input = join(dir, "input.pt");
  copyFileSync(join(FIXTURES, "text2im.pt"), input);
  const before = readFileSync(input);
  const hardLink = join(dir, "input-link.safetensors");
  linkSync(input, hardLink);
  const viaLink = glide("convert", input, hardLink, "--force");
  assert.equal(viaLink.code, 1);
  assert.match(viaLink.stderr, /^glide: .*would overwrite the input/);
  assert.deepEqual(readFileSync(input), before, "the input is untouched");

  const shipped = join(shippedModelsDir(), "glide-ts-base32.safetensors");
  const shippedBefore = readFileSync(shipped);
  const onShipped = glide("convert", input, shipped, "--force");
  assert.equal(onShipped.code, 1);
  assert.match(onShipped.stderr, /^glide: .*is the model file of glide-ts-base32 .*choose another output\n$/);
  assert.deepEqual(readFileSync(shipped), shippedBefore, "the shipped model is untouched");
});

test("convert --sampler --steps --guidance recommends sampling settings with the weights; glide generate uses them", async () => {
  const out = join(dir, "recommends.safetensors");
  const convert = glide(
    "convert",
    join(FIXTURES, "text2im.pt"),
    out,
    ...["--sampler", "ddim", "--steps", "3"],
    ...["--guidance", "2.5"],
  );
  assert.equal(convert.code, 0, convert.stderr);
  assert.deepEqual(JSON.parse((await readSafetensors(out)).metadata.sampling!), {
    sampler: "ddim",
    steps: 3,
    guidance: 2.5,
  });
  const config = join(dir, "text2im.config.json");
  const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8"));
  writeFileSync(config, JSON.stringify(manifest.cases.text2im.config));
  const generate = glide(
    "generate",
    "a red heart",
    ...["--checkpoint", out, "--config", config, "--no-upsample", "--json", "--out", join(dir, "heart.png")],
  );
  assert.equal(generate.code, 0, generate.stderr);
  const report = JSON.parse(generate.stdout);
  assert.deepEqual([report.sampler.name, report.sampler.steps, report.sampler.guidance], ["ddim", 3, 2.5]);

  // The three go together; a bad value is refused before anything is written.
  for (const flags of [
    ["--sampler", "ddim"],
    ["--steps", "3", "--guidance", "2"],
    ["--sampler", "euler", "--steps", "3", "--guidance", "2"],
  ]) {
    const bad = join(dir, "partial.safetensors");
    const run = glide("convert", join(FIXTURES, "text2im.pt"), bad, ...flags);
    assert.equal(run.code, 1, flags.join(" "));
    assert.equal(run.stderr.trim().split("\n").length <= 2, true, run.stderr);
    assert.equal(existsSync(bad), false);
  }
});
