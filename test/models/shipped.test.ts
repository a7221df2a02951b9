// The models shipped in models/: the README's main job works on a fresh clone with an empty cache
// and no network, the same seed gives the same PNG, and the catalog lists them as present.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";

const empty = mkdtempSync(join(tmpdir(), "glide-empty-cache-"));
const out = mkdtempSync(join(tmpdir(), "glide-shipped-"));

/** `glide …` with an empty download cache and a download URL that goes nowhere. */
function glide(...args: string[]) {
  const run = spawnSync(process.execPath, ["packages/app/bin/glide.js", ...args], {
    encoding: "utf-8",
    env: { ...process.env, GLIDE_CACHE: empty, GLIDE_DOWNLOAD_BASE_URL: "http://127.0.0.1:9/", GLIDE_DEBUG: "" },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test("glide generate with no model named draws with the shipped models: 128×128, same seed → same PNG", async () => {
  const args = ["generate", "red heart", "--seed", "3", "--steps", "10", "--upsample-steps", "8", "-q"];
  const a = glide(...args, "--out", join(out, "a.png"));
  assert.equal(a.code, 0, a.stderr);
  const b = glide(...args, "--out", join(out, "b.png"));
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(readFileSync(join(out, "a.png")), readFileSync(join(out, "b.png")), "the same bytes");
  const meta = await sharp(join(out, "a.png")).metadata();
  assert.deepEqual([meta.width, meta.height], [128, 128]);
  // A picture, not noise or a blank: neighbouring pixels are close (noise's differ by ~85 on
  // average), and the picture is not one flat colour.
  const { data } = await sharp(join(out, "a.png")).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let neighbour = 0;
  for (let y = 0; y < 128; y++)
    for (let x = 1; x < 128; x++)
      for (let c = 0; c < 3; c++)
        neighbour += Math.abs(data[(y * 128 + x) * 3 + c]! - data[(y * 128 + x - 1) * 3 + c]!);
  neighbour /= 128 * 127 * 3;
  const mean = data.reduce((s, v) => s + v, 0) / data.length;
  const spread = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
  assert.ok(neighbour < 25, `smooth like a drawing, not noise (mean neighbour difference ${neighbour.toFixed(1)})`);
  assert.ok(spread > 10, `not blank (spread ${spread.toFixed(1)})`);
});

test("edit and upsample use the shipped models too; glide models lists them as present", async () => {
  // White with a transparent square in the middle: the part to redraw (the picture is its own mask).
  const picture = join(out, "picture.png");
  const rgba = Buffer.alloc(64 * 64 * 4, 255);
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) rgba[(y * 64 + x) * 4 + 3] = 0;
  await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } })
    .png()
    .toFile(picture);
  const edited = glide(
    "edit",
    picture,
    picture,
    "red heart",
    "--seed",
    "1",
    "--steps",
    "6",
    "--no-upsample",
    "-q",
    "--out",
    join(out, "e.png"),
  );
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal((await sharp(join(out, "e.png")).metadata()).width, 32);
  const small = join(out, "small.png");
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .png()
    .toFile(small);
  const up = glide("upsample", small, "red heart", "--seed", "1", "--steps", "5", "-q", "--out", join(out, "u.png"));
  assert.equal(up.code, 0, up.stderr);
  assert.equal((await sharp(join(out, "u.png")).metadata()).width, 128);

  const list = glide("models");
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^glide-ts-base32 +text2im +32 +12\.8M +[\d.]+ MB +shipped/m);
  assert.match(list.stdout, /^glide-ts-upsample128 +super-res +32→128 +11\.7M +[\d.]+ MB +shipped/m);
  assert.match(list.stdout, /^base +text2im +64 +385\.0M +≈1\.54 GB +not downloaded/m);
});
