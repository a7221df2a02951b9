// `glide upsample IMAGE PROMPT` in a child process on the fixture upsampler.

import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { test } from "node:test";
import { fixtureFiles, readPng, tempDir, writePicture } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const dir = tempDir();
const sr = fixtureFiles("superres");

test("glide upsample --json: DPM-Solver++ at 10 steps and temperature 0.997 by default; fast27 for the other samplers", async () => {
  const picture = await writePicture(dir, "small.png", 4, 4);
  const out = join(dir, "large.png");
  const run = glide(
    "upsample",
    picture,
    "a corgi",
    "--checkpoint",
    sr.checkpoint,
    "--config",
    sr.config,
    "--out",
    out,
    "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.command, "upsample");
  assert.deepEqual(result.upsampling, {
    name: "dpm++2m",
    steps: 10,
    evaluations: 10,
    temperature: 0.997,
    keepLowRes: false, // released-style weights (no glide-ts configuration in them): as the reference samples
  });
  assert.equal(result.sampler, null);
  assert.equal((await readPng(out)).width, 16);
  assert.match(run.stderr, /upsampling: 10 steps/);
  const withDdim = glide(
    "upsample",
    picture,
    "a corgi",
    ...["--checkpoint", sr.checkpoint, "--config", sr.config, "--sampler", "ddim", "--out", out, "--json"],
  );
  assert.equal(withDdim.code, 0, withDdim.stderr);
  assert.deepEqual(JSON.parse(withDdim.stdout).upsampling, {
    name: "ddim",
    steps: 27,
    evaluations: 27,
    temperature: 0.997,
    keepLowRes: false,
  });
});

test("glide upsample --keep-low-res: the picture shrunk back by 4×4 block means is the input", async () => {
  const picture = await writePicture(dir, "small-kept.png", 4, 4);
  const out = join(dir, "kept.png");
  const model = ["--checkpoint", sr.checkpoint, "--config", sr.config];
  const run = glide("upsample", picture, "a corgi", ...model, "--keep-low-res", "--seed", "5", "--out", out, "--json");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).upsampling.keepLowRes, true);
  const input = await readPng(picture);
  const output = await readPng(out);
  let largest = 0;
  for (let by = 0; by < 4; by++)
    for (let bx = 0; bx < 4; bx++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = 0; y < 4; y++)
          for (let x = 0; x < 4; x++) sum += output.data[((by * 4 + y) * 16 + bx * 4 + x) * 3 + c]!;
        largest = Math.max(largest, Math.abs(sum / 16 - input.data[(by * 4 + bx) * 3 + c]!));
      }
  assert.ok(largest <= 1, `every block's mean within one level of the input pixel, got ${largest}`);
  const free = glide(
    "upsample",
    picture,
    "a corgi",
    ...model,
    "--no-keep-low-res",
    "--seed",
    "5",
    "--out",
    out,
    "--json",
  );
  assert.equal(free.code, 0, free.stderr);
  assert.equal(JSON.parse(free.stdout).upsampling.keepLowRes, false);
});

test("glide upsample: options and errors", () => {
  const help = glide("upsample", "--help");
  assert.equal(help.code, 0);
  for (const flag of ["--checkpoint", "--sampler", "--steps", "--temp", "--seed", "--out", "--json"]) {
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  }
  const badTemp = glide("upsample", "x.png", "x", "--temp", "0");
  assert.equal(badTemp.code, 1);
  assert.match(badTemp.stderr, /--temp must be positive/);
});

test("glide upsample: --out is not the input picture, however it is spelled", async () => {
  const picture = await writePicture(dir, "input.png", 4, 4);
  const spelled = join(dir, "..", basename(dir), ".", "input.png");
  const run = glide("upsample", picture, "x", "--checkpoint", join(dir, "no-such-model.pt"), "--out", spelled);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, `glide: --out ${spelled} is the input image '${picture}'; choose another --out\n`);
});
