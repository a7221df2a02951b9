// `glide generate` as a user runs it: a child process on the fixture models, --json parsed.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fixtureFiles, readPng, tempDir } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const dir = tempDir();
const t2i = fixtureFiles("text2im");
const sr = fixtureFiles("superres");
const model = ["--checkpoint", t2i.checkpoint, "--config", t2i.config];

test("glide generate --json writes the PNG and reports paths, seed and timings", async () => {
  const out = join(dir, "corgi.png");
  const args = [
    "generate",
    "a corgi",
    ...model,
    "--steps",
    "4",
    "--seed",
    "7",
    "--out",
    out,
    "--json",
    "--threads",
    "1",
  ];
  const run = glide(...args);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.command, "generate");
  assert.equal(result.seed, 7);
  assert.deepEqual(result.images, [out]);
  assert.equal(result.grid, null);
  assert.equal(result.width, 16);
  assert.deepEqual(result.sampler, { name: "dpm++2m", steps: 4, evaluations: 4, guidance: 3, clipGuidance: null });
  assert.equal(result.upsampler, null);
  assert.ok(result.timings.base.secondsPerStep > 0, "timings are reported");
  assert.match(run.stderr, /sampling: 4 steps in .* steps\/s/, "a summary line on stderr (not a TTY)");
  const png = await readPng(out);
  assert.equal(png.width, 16);
  assert.equal(png.height, 16);

  const again = glide(...args.slice(0, -7), "--seed", "7", "--out", join(dir, "again.png"), "--quiet");
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stderr, "", "--quiet: nothing on stderr");
  assert.match(again.stdout, /wrote .*again\.png \(16×16, seed 7\)/);
  assert.ok(readFileSync(out).equals(readFileSync(join(dir, "again.png"))), "same seed: the same PNG");
});

test("glide generate -n 2 with an upsampler writes a grid and each image", async () => {
  const out = join(dir, "grid.png");
  const run = glide(
    "generate",
    "a corgi",
    ...model,
    "--upsampler",
    sr.checkpoint,
    "--upsampler-config",
    sr.config,
    "--sampler",
    "ddim",
    "--steps",
    "3",
    "--upsample-steps",
    "5",
    "-n",
    "2",
    "--out",
    out,
    "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.grid, out);
  assert.deepEqual(result.images, [join(dir, "grid-1.png"), join(dir, "grid-2.png")]);
  assert.equal(result.upsampling.steps, 5);
  assert.equal(result.upsampling.temperature, 0.997);
  assert.equal(result.upsampler.checkpoint, sr.checkpoint);
  const grid = await readPng(out);
  assert.equal(grid.width, 32);
  assert.equal(grid.height, 16);
  assert.equal((await readPng(result.images[1])).width, 16);
});

test("glide generate: mistakes get one clear message and exit 1", () => {
  const badSampler = glide("generate", "x", ...model, "--sampler", "euler");
  assert.equal(badSampler.code, 1);
  assert.match(
    badSampler.stderr,
    /'--sampler <name>' argument 'euler' is invalid\. Allowed choices are ddpm, ddim, plms, dpm\+\+2m/,
  );
  const zeroSteps = glide("generate", "x", ...model, "--steps", "0");
  assert.equal(zeroSteps.code, 1);
  assert.match(zeroSteps.stderr, /steps must be at least 1/);

  const previous = process.env.GLIDE_CACHE;
  process.env.GLIDE_CACHE = tempDir();
  try {
    const noCheckpoint = glide("generate", "x", "--model", "glide");
    assert.equal(noCheckpoint.code, 1);
    assert.match(
      noCheckpoint.stderr,
      /^glide: checkpoint "base" is not downloaded .*run `glide download base`.*\(≈1\.54 GB\).*--checkpoint PATH/,
    );
    assert.equal(noCheckpoint.stderr.trim().split("\n").length, 1, "one line, no stack trace");
  } finally {
    if (previous === undefined) delete process.env.GLIDE_CACHE;
    else process.env.GLIDE_CACHE = previous;
  }
  const unknownConfig = glide("generate", "x", "--checkpoint", t2i.checkpoint);
  assert.equal(unknownConfig.code, 1);
  assert.match(unknownConfig.stderr, /matches no preset/);
});

test("glide generate --help lists the options", () => {
  const run = glide("generate", "--help");
  assert.equal(run.code, 0);
  for (const flag of ["--checkpoint", "--preset", "--config", "--upsampler", "--no-upsample", "--sampler", "--steps"]) {
    assert.ok(run.stdout.includes(flag), `help mentions ${flag}`);
  }
  for (const flag of ["--guidance", "--seed", "--batch", "--out", "--json", "--threads", "glide download"]) {
    assert.ok(run.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test("glide generate: a bad --out fails before the model is loaded", () => {
  const missingModel = ["--checkpoint", join(dir, "no-such-model.pt"), "--config", t2i.config];
  const file = join(dir, "plain.txt");
  writeFileSync(file, "not a directory");
  const underFile = glide("generate", "x", ...missingModel, "--out", join(file, "out.png"));
  assert.equal(underFile.code, 1);
  assert.equal(underFile.stderr, `glide: --out ${join(file, "out.png")}: ${file} is not a directory\n`);

  const folder = join(dir, "folder");
  mkdirSync(folder);
  const isDir = glide("generate", "x", ...missingModel, "--out", folder);
  assert.equal(isDir.code, 1);
  assert.match(isDir.stderr, /^glide: --out .*folder is a directory; give the PNG file to write\n$/);

  mkdirSync(join(dir, "batch-2.png"));
  const numbered = glide("generate", "x", ...missingModel, "-n", "2", "--out", join(dir, "batch.png"));
  assert.equal(numbered.code, 1);
  assert.match(numbered.stderr, /^glide: --out .*batch-2\.png is a directory/, "-n 2: the numbered paths too");

  const empty = glide("generate", "  ", ...missingModel);
  assert.equal(empty.code, 1);
  assert.equal(empty.stderr, 'glide: the prompt is empty: describe the picture, e.g. glide generate "a red heart"\n');

  // Its own model files are never an output: the checkpoint, the config, the upsampler.
  const model = join(dir, "own-model.safetensors");
  writeFileSync(model, readFileSync(t2i.checkpoint));
  const before = readFileSync(model);
  const overCheckpoint = glide("generate", "x", "--checkpoint", model, "--config", t2i.config, "--out", model);
  assert.equal(overCheckpoint.code, 1);
  assert.equal(
    overCheckpoint.stderr,
    `glide: --out ${model} is the input checkpoint '${model}'; choose another --out\n`,
  );
  assert.deepEqual(readFileSync(model), before, "the checkpoint is untouched");
  const overConfig = glide("generate", "x", "--checkpoint", model, "--config", t2i.config, "--out", t2i.config);
  assert.match(overConfig.stderr, /is the input config/);
  const upsampler = glide(
    "generate",
    "x",
    ...missingModel,
    "--upsampler",
    sr.checkpoint,
    "-n",
    "2",
    "--out",
    sr.checkpoint,
  );
  assert.match(upsampler.stderr, /is the input upsampler checkpoint/);

  if (existsSync("/proc/self")) {
    // A directory that takes no new files, whoever runs the test (root ignores file modes).
    const refused = glide("generate", "x", ...missingModel, "--out", "/proc/glide-out.png");
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "glide: --out /proc/glide-out.png: /proc does not accept new files\n");
  }
});

test("glide generate: option errors are one line and a pointer to --help", () => {
  for (const args of [
    ["--stpes", "3"],
    ["--steps", "many"],
    ["--threads", "1000"],
    ["--guidance", "1e308"],
  ]) {
    const run = glide("generate", "x", ...model, ...args);
    assert.equal(run.code, 1, args.join(" "));
    const lines = run.stderr.trimEnd().split("\n");
    assert.ok(lines.length <= 2, `${args.join(" ")}: ${lines.length} lines on stderr:\n${run.stderr}`);
    assert.equal(lines.at(-1), "(see `glide generate --help`)");
  }
  const unknown = glide("generate", "x", "--stpes", "3");
  assert.match(unknown.stderr, /^error: unknown option '--stpes' \(Did you mean --steps\?\)\n/);
  assert.match(glide("generate", "x", "--guidance", "-1e308").stderr, /--guidance must be from -100 to 100/);
  const threads = glide("generate", "x", "--threads", "1000");
  assert.match(threads.stderr, new RegExp(`--threads must be at most ${availableParallelism()}, the CPU cores`));
  const help = glide("generate", "--help");
  assert.match(
    help.stdout.replace(/\s+/g, " "),
    new RegExp(`--threads <n> [^-]*\\(default: ${availableParallelism()}\\)`),
  );
});

test("glide generate: spaced respacings, plms steps, and a prompt longer than text_ctx", () => {
  const long = "a very small corgi wearing a red bowtie and a blue hat sits on a green lawn under a tall tree";
  const out = join(dir, "long.png");
  const run = glide(
    "generate",
    long,
    ...model,
    "--sampler",
    "plms",
    "--steps",
    "1, 2",
    "--seed",
    "1",
    "--out",
    out,
    "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.deepEqual(
    result.sampler,
    { name: "plms", steps: 3, evaluations: 4, guidance: 3, clipGuidance: null },
    "steps and evaluations",
  );
  assert.match(run.stderr, /sampling: 4 evaluations in .*plms: 3 steps \+ 1 warm-up evaluation\)/);
  assert.match(
    run.stderr,
    /^glide: warning: the prompt is \d+ tokens long; the model reads only the first 16 \(the rest is ignored\)$/m,
  );
  const warnings = run.stderr.split("\n").filter((line) => line.includes("warning"));
  assert.equal(warnings.length, 1, "one line");

  const help = glide("generate", "--help");
  assert.match(help.stdout.replace(/\s+/g, " "), /plms makes one model evaluation more than its steps/);
});
