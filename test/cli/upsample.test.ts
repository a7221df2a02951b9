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
  assert.deepEqual(result.upsampling, { name: "dpm++2m", steps: 10, evaluations: 10, temperature: 0.997 });
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
  });
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
