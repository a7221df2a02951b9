// `glide edit IMAGE MASK PROMPT` in a child process on the fixture inpainting model.

import assert from "node:assert/strict";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { maskFiles, picturePng } from "../image/mask-files.ts";
import { fixtureFiles, readPng, tempDir, writeMask, writePicture } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const dir = tempDir();
const inpaint = fixtureFiles("inpaint");
const model = ["--checkpoint", inpaint.checkpoint, "--config", inpaint.config];

test("glide edit --json writes the edited picture", async () => {
  const picture = await writePicture(dir, "photo.png", 40, 40);
  const mask = await writeMask(dir, "mask.png", 40, 40, { x0: 0.25, x1: 0.75, y0: 0.25, y1: 0.75 });
  const out = join(dir, "edited.png");
  const run = glide("edit", picture, mask, "a corgi", ...model, "--steps", "3", "--seed", "2", "--out", out, "--json");
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.command, "edit");
  assert.equal(result.image, picture);
  assert.equal(result.mask, mask);
  assert.deepEqual(result.images, [out]);
  assert.equal(result.sampler.guidance, 5, "the inpaint notebook's guidance by default");
  assert.equal((await readPng(out)).width, 16);
});

test("glide edit: unreadable picture, empty mask, missing argument", async () => {
  const picture = await writePicture(dir, "p.png", 16, 16);
  const white = await writeMask(dir, "white.png", 16, 16, { x0: 0, x1: 0, y0: 0, y1: 0 });
  const missing = glide("edit", join(dir, "nope.png"), white, "x", ...model);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^glide: image '.*nope\.png': cannot read it \(no such file\)\n$/);
  const empty = glide("edit", picture, white, "x", ...model);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^glide: mask marks nothing to redraw \(black pixels are redrawn, white ones kept\)\n$/);
  const noPrompt = glide("edit", picture, white);
  assert.equal(noPrompt.code, 1);
  assert.match(noPrompt.stderr, /missing required argument 'prompt'/);
});

test("glide edit: --out never overwrites the picture or the mask, checked before any work", async () => {
  const picture = await writePicture(dir, "keep.png", 16, 16);
  const mask = await writeMask(dir, "keep-1.png", 16, 16, { x0: 0.25, x1: 0.75, y0: 0.25, y1: 0.75 });
  const before = readFileSync(picture);
  const missingModel = ["--checkpoint", join(dir, "no-such-model.pt"), "--config", inpaint.config];
  const same = glide("edit", picture, mask, "x", ...missingModel, "--out", picture);
  assert.equal(same.code, 1);
  assert.equal(same.stderr, `glide: --out ${picture} is the input image '${picture}'; choose another --out\n`);

  const link = join(dir, "link.png");
  symlinkSync(mask, link);
  const viaLink = glide("edit", picture, mask, "x", ...missingModel, "--out", link);
  assert.equal(viaLink.code, 1);
  assert.match(viaLink.stderr, /^glide: --out .*link\.png is the input mask '.*keep-1\.png'; choose another --out\n$/);

  const numbered = glide("edit", picture, mask, "x", ...missingModel, "-n", "2", "--out", picture);
  assert.equal(numbered.code, 1, "-n 2: keep.png is the grid, keep-1.png the first image");
  assert.match(numbered.stderr, /is the input image/);
  const numberedOnly = glide("edit", picture, mask, "x", ...missingModel, "-n", "2", "--out", join(dir, "keep"));
  assert.equal(numberedOnly.code, 1);
  assert.match(
    numberedOnly.stderr,
    /^glide: --out .*keep-1\.png is the input mask/,
    "the first image's path is the mask",
  );
  assert.ok(readFileSync(picture).equals(before), "the picture is untouched");
});

test("glide edit takes and refuses the mask files /v1/images/edits does (the one mask rule)", async () => {
  const picture = join(dir, "rule-picture.png");
  writeFileSync(picture, await picturePng());
  for (const [i, { what, bytes, refused }] of (await maskFiles()).entries()) {
    const mask = join(dir, `rule-mask-${i}.png`);
    writeFileSync(mask, bytes);
    const out = join(dir, `rule-out-${i}.png`);
    const run = glide(
      "edit",
      picture,
      mask,
      "x",
      ...model,
      "--steps",
      "1",
      "--no-upsample",
      "--seed",
      "1",
      "--out",
      out,
    );
    if (refused === null) assert.equal(run.code, 0, `${what}: ${run.stderr}`);
    else {
      assert.equal(run.code, 1, what);
      assert.match(run.stderr, /^glide: [^\n]*\n$/, `${what}: one line`);
      assert.match(run.stderr, refused, what);
    }
  }
});
