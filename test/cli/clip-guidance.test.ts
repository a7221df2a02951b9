// `glide generate/edit --clip-guidance` in a child process: the fixtures' tiny 16×16 models guided
// by the CLIP-parity fixture's tiny random noised CLIP, saved one file per tower as the released
// checkpoints are, with the fixture copy of CLIP's vocabulary.

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { loadCheckpointFile } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { writeSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { towerStateDict } from "../../packages/glide-ts/src/pipelines/load-clip.ts";
import { clipFixturePath, clipManifest, VOCABULARY } from "../clip/fixtures.ts";
import { fixtureFiles, readPng, tempDir, writeMask, writePicture } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const dir = tempDir();
const t2i = fixtureFiles("text2im");
const model = ["--checkpoint", t2i.checkpoint, "--config", t2i.config, "--threads", "1"];
const imageEnc = join(dir, "clip_image_enc.safetensors");
const textEnc = join(dir, "clip_text_enc.safetensors");
const clipConfig = join(dir, "clip-config.json");
const clipFiles = ["--clip-image-enc", imageEnc, "--clip-text-enc", textEnc, "--clip-vocab", VOCABULARY];
const tinyClip = [...clipFiles, "--clip-config", clipConfig];

before(async () => {
  const { stateDict } = await loadCheckpointFile(clipFixturePath("clip.pt"));
  await writeSafetensors(imageEnc, towerStateDict(stateDict, "image_encoder", "clip.pt"));
  await writeSafetensors(textEnc, towerStateDict(stateDict, "text_encoder", "clip.pt"));
  writeFileSync(clipConfig, JSON.stringify(clipManifest().cases.clip.config));
});

function generate(out: string, ...extra: string[]) {
  return glide("generate", "a red fox", ...model, "--steps", "3", "--seed", "4", "--out", out, "--json", ...extra);
}

test("glide generate --clip-guidance with classifier-free guidance writes a PNG that scale 0 would not", async () => {
  const guided = join(dir, "guided.png");
  const run = generate(guided, "--clip-guidance", "3", ...tinyClip);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.sampler.clipGuidance, 3, "the CLIP scale is reported");
  assert.equal(result.sampler.guidance, 3, "combined with classifier-free guidance");
  assert.deepEqual(result.images, [guided]);
  assert.equal((await readPng(guided)).width, 16);

  const plain = join(dir, "plain.png");
  const off = generate(plain, "--clip-guidance", "0", ...tinyClip);
  assert.equal(off.code, 0, off.stderr);
  assert.equal(JSON.parse(off.stdout).sampler.clipGuidance, null, "scale 0 is no CLIP guidance");
  assert.ok(!readFileSync(guided).equals(readFileSync(plain)), "the CLIP gradient changes the image");

  const again = join(dir, "again.png");
  assert.equal(generate(again, "--clip-guidance", "3", ...tinyClip).code, 0);
  assert.ok(readFileSync(guided).equals(readFileSync(again)), "same seed and scale: the same PNG");
});

test("glide generate --clip-guidance with DDPM and a respacing (original timesteps reach the CLIP)", () => {
  const out = join(dir, "ddpm.png");
  const run = generate(out, "--sampler", "ddpm", "--steps", "10,3", "--clip-guidance", "3", ...tinyClip);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).sampler.clipGuidance, 3);
  assert.ok(existsSync(out));
});

test("glide edit --clip-guidance guides the redrawn region", async () => {
  const inpaint = fixtureFiles("inpaint");
  const picture = await writePicture(dir, "photo.png", 16, 16);
  const mask = await writeMask(dir, "mask.png", 16, 16, { x0: 0.25, x1: 0.75, y0: 0.25, y1: 0.75 });
  const edit = (out: string, scale: string) =>
    glide(
      "edit",
      picture,
      mask,
      "a hat",
      "--checkpoint",
      inpaint.checkpoint,
      "--config",
      inpaint.config,
      "--steps",
      "3",
      "--seed",
      "1",
      "--threads",
      "1",
      "--out",
      out,
      "--json",
      "--clip-guidance",
      scale,
      ...tinyClip,
    );
  const guided = edit(join(dir, "edit-guided.png"), "3");
  assert.equal(guided.code, 0, guided.stderr);
  assert.equal(JSON.parse(guided.stdout).sampler.clipGuidance, 3);
  assert.equal(edit(join(dir, "edit-plain.png"), "0").code, 0);
  assert.ok(!readFileSync(join(dir, "edit-guided.png")).equals(readFileSync(join(dir, "edit-plain.png"))));
});

test("glide generate --clip-guidance: bad input is one line, and nothing is written", () => {
  const out = join(dir, "never.png");
  const fails = (args: string[], pattern: RegExp, env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const run = generate(out, ...args);
    process.env = saved;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, pattern);
    // An option's error may be followed by commander's pointer to the help.
    const lines = run.stderr.split("\n").filter((line) => line && !line.startsWith("(see `glide"));
    assert.equal(lines.length, 1, `one line: ${run.stderr}`);
    assert.ok(!existsSync(out), "no image written");
  };
  fails(["--clip-guidance", "-1", ...tinyClip], /--clip-guidance must not be negative/);
  fails(["--clip-guidance", "x"], /--clip-guidance must be a number/);
  fails(["--clip-vocab", VOCABULARY], /^glide: --clip-vocab needs --clip-guidance SCALE\n$/);
  fails(
    ["--clip-guidance", "3", ...tinyClip.map((a) => (a === imageEnc ? join(dir, "none.safetensors") : a))],
    /^glide: CLIP image encoder '.*none\.safetensors': no such file\n$/,
  );
  const emptyCache = tempDir();
  fails(
    ["--clip-guidance", "3"],
    new RegExp(
      `^glide: CLIP guidance needs GLIDE's noised CLIP: clip/image-enc, clip/text-enc, bpe_simple_vocab_16e6\\.txt\\.gz not in ${emptyCache}; ` +
        "run `glide download clip-image-enc clip-text-enc` \\(≈346 MB \\+ ≈287 MB\\), or pass --clip-image-enc FILE --clip-text-enc FILE --clip-vocab FILE\\n$",
    ),
    { GLIDE_CACHE: emptyCache },
  );
  // Without --clip-config the released CLIP (64×64) is assumed: it cannot guide a 16×16 model.
  fails(
    ["--clip-guidance", "3", ...clipFiles],
    /^glide: CLIP guidance: the CLIP image encoder takes 64×64 images, the base model makes 16×16 \(the released CLIP guides the released 64×64 models: --model glide\)\n$/,
  );
  const wrongSize = join(dir, "clip-32.json");
  writeFileSync(wrongSize, JSON.stringify({ ...clipManifest().cases.clip.config, image_size: 32 }));
  fails(
    ["--clip-guidance", "3", ...clipFiles, "--clip-config", wrongSize],
    /^glide: CLIP guidance: the CLIP image encoder takes 32×32 images, the base model makes 16×16\n$/,
  );
  const badConfig = join(dir, "clip-bad.json");
  writeFileSync(badConfig, JSON.stringify({ n_heads: 2 }));
  fails(
    ["--clip-guidance", "3", ...clipFiles, "--clip-config", badConfig],
    /^glide: CLIP config '.*clip-bad\.json': unknown CLIP configuration key 'n_heads'\n$/,
  );
});
