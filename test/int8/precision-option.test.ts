// The precision option from the library and the command line: int8 runs end to end and writes a
// picture close to fp32's; anything else is one clear error.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { PipelineError } from "../../packages/glide-ts/src/pipelines/errors.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import { glide } from "../cli/glide-cli.ts";
import { fixtureFiles, fixtureModel, readPng, tempDir } from "../pipelines/helpers.ts";

/** PSNR in dB of two 8-bit pictures of the same size. */
function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / Math.max(sum / a.length, 1e-12));
}

test("textToImage in int8 samples a picture close to fp32's at the same seed", async () => {
  const model = await fixtureModel("text2im");
  const options = { prompt: "a red heart", model, steps: 6, seed: 5, threads: 1 };
  const fp32 = await textToImage(options);
  const int8 = await textToImage({ ...options, precision: "int8" });
  const a = fp32.images[0]!.data;
  const b = int8.images[0]!.data;
  const db = psnr(a, b);
  assert.ok(Number.isFinite(db), "int8 changes the picture (it is not fp32 in disguise)");
  // Measured 26 dB on this tiny model; another seed's picture is far further away.
  assert.ok(db > 20, `PSNR ${db.toFixed(1)} dB against fp32`);
  const otherSeed = await textToImage({ ...options, seed: 6 });
  assert.ok(psnr(a, otherSeed.images[0]!.data) < db - 6, "int8 stays much closer to fp32 than another seed");
});

test("an unknown precision is a PipelineError naming the choices", async () => {
  const model = await fixtureModel("text2im");
  await assert.rejects(
    textToImage({ prompt: "x", model, steps: 2, seed: 1, precision: "int16" as never }),
    (error: Error) =>
      error instanceof PipelineError && /precision must be one of fp32, int8, got 'int16'/.test(error.message),
  );
});

test("glide generate --precision int8 writes the PNG; --precision int16 is a one-line error", async () => {
  const dir = tempDir();
  const t2i = fixtureFiles("text2im");
  const out = join(dir, "int8.png");
  const model = ["--checkpoint", t2i.checkpoint, "--config", t2i.config];
  const run = glide(
    "generate",
    "a corgi",
    ...model,
    "--steps",
    "3",
    "--seed",
    "2",
    "--precision",
    "int8",
    "--threads",
    "1",
    "--out",
    out,
    "--quiet",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /wrote .*int8\.png/);
  const png = await readPng(out);
  assert.equal(png.width, 16);

  const bad = glide("generate", "a corgi", ...model, "--precision", "int16", "--out", join(dir, "no.png"));
  assert.notEqual(bad.code, 0);
  const [first] = bad.stderr.trim().split("\n");
  assert.match(first!, /--precision <type>' argument 'int16' is invalid\. Allowed choices are fp32, int8\./);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, "no stack trace");
});
