// `glide eval` on the fixture super-res model (16×16, low-res 4×4): held-out pairs of a corpus the
// test writes, upsampled and compared with the true pictures; and the mistakes that get one line.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { splitOf } from "../../packages/glide-ts/src/data/split.ts";
import { fixtureFiles, tempDir } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const VALIDATION_FRACTION = 0.5;
const KEYS = Array.from({ length: 10 }, (_, i) => `picture-${i}`);

/** Colourful pictures of side `size` in their own folder, beside an all.jsonl manifest. */
async function writeCorpus(dir: string, size: number): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (const [k, key] of KEYS.entries()) {
    const data = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) data.set([(x * 255) / size, (y * 255) / size, (k * 40) % 256], (y * size + x) * 3);
    await sharp(data, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(join(dir, `${key}.png`));
    lines.push(JSON.stringify({ image: `${key}.png`, caption: `picture ${k}` }));
  }
  const manifest = join(dir, "all.jsonl");
  writeFileSync(manifest, `${lines.join("\n")}\n`);
  return manifest;
}

const sr = fixtureFiles("superres");
const model = ["--checkpoint", sr.checkpoint, "--config", sr.config];
const dir = tempDir();
const corpus16 = writeCorpus(join(dir, "16"), 16);
const corpus8 = writeCorpus(join(dir, "8"), 8);
const split = ["--validation-fraction", String(VALIDATION_FRACTION)];

test("glide eval on a super-res model: PSNR, SSIM and seconds per image of held-out pairs, as JSON", async () => {
  const data = await corpus16;
  const held = KEYS.filter((k) => splitOf(k, VALIDATION_FRACTION) === "validation");
  assert.ok(held.length >= 2, "the split holds some validation pairs (by the keys' hash)");
  const args = ["eval", ...model, "--data", data, ...split, "--pairs", "2", "--threads", "1", "--json"];
  const run = glide(...args, "--sampler", "dpm++2m", "--steps", "3");
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.command, "eval");
  assert.equal(r.model.variant, "super-res");
  assert.deepEqual(r.settings, {
    pairs: 2,
    seed: 0,
    sampler: "dpm++2m",
    steps: 3,
    evaluations: 3,
    temperature: 0.997,
    lowResSize: 4,
    validationFraction: VALIDATION_FRACTION,
    precision: "fp32",
    keepLowRes: false,
    quick: false,
  });
  assert.deepEqual(r.data, {
    source: data,
    validation: held.length,
    skipped: 0,
    sourceSize: { width: 16, height: 16 },
  });
  assert.deepEqual(
    r.rows.map((row: { key: string; seed: number }) => [row.key, row.seed]),
    held.slice(0, 2).map((k, i) => [k, i]),
    "the first held-out pairs in file order, pair i from seed i",
  );
  for (const which of ["upsampled", "bicubic"] as const) {
    const q = r[which];
    assert.ok(q.psnr.mean > 0 && q.psnr.mean <= 100, `${which} PSNR ${q.psnr.mean}`);
    assert.ok(q.lowFrequencyPsnr.mean > 0, `${which} low-frequency PSNR`);
    assert.ok(q.ssim.mean > -1 && q.ssim.mean <= 1, `${which} SSIM ${q.ssim.mean}`);
  }
  assert.ok(r.bicubic.lowFrequencyPsnr.mean > 20, "a bicubic resize keeps the block means of a smooth ramp");
  assert.ok(r.secondsPerImage > 0);

  const again = glide(...args, "--sampler", "dpm++2m", "--steps", "3");
  assert.deepEqual(
    JSON.parse(again.stdout).rows.map((row: { upsampled: unknown }) => row.upsampled),
    r.rows.map((row: { upsampled: unknown }) => row.upsampled),
    "fixed seeds: the same figures",
  );

  // Without --sampler and --steps: the upsampler's own defaults (as glide upsample), and the table.
  const table = glide("eval", ...model, "--data", data, ...split, "--pairs", "1", "--threads", "1", "--quiet");
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /sampling {2}dpm\+\+2m, 10 steps \(10 evaluations\)/);
  assert.match(table.stdout, /PSNR\s+[\d.]+ dB/);
  assert.match(table.stdout, /bicubic resize of the same input/);
  assert.match(table.stdout, /seconds per image {2}[\d.]+ s/);
});

test("glide eval on a super-res model: bad input gets one clear line and exit 1", async () => {
  const oneLine = (run: { code: number | null; stderr: string }, pattern: RegExp) => {
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, pattern);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  };
  oneLine(
    glide("eval", ...model, "--data", await corpus8, ...split, "--pairs", "1"),
    /^glide: --data .*all\.jsonl: its pictures are smaller than the upsampler's 16×16 \(picture-\d is 8×8\).*--size 16\)\n$/,
  );
  oneLine(
    glide("eval", ...model, "--data", await corpus16, "--validation-fraction", "0", "--pairs", "1"),
    /the validation fraction must be above 0/,
  );
  oneLine(
    glide("eval", ...model, "--data", await corpus16, ...split, "--steps", "2000"),
    /sampler: steps must be an integer from 1 to 1000, got 2000/,
  );
  const inpaint = fixtureFiles("inpaint");
  oneLine(
    glide("eval", "--checkpoint", inpaint.checkpoint, "--config", inpaint.config, "--data", await corpus16),
    /^glide: .*inpaint\.pt: glide eval takes a text2im or a super-res model, got an inpaint model\n$/,
  );
});
