// `glide eval` as a user runs it: the fixture text2im model (16×16) on a tiny corpus of hearts and
// shapes on white that the test writes, --quick --json parsed and every figure checked for sanity.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { PROBE_PROMPTS } from "../../packages/eval/src/caption-probe.ts";
import { splitOf } from "../../packages/glide-ts/src/data/split.ts";
import { fixtureFiles, tempDir } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const SIZE = 16;
const VALIDATION_FRACTION = 0.5;
type Rgb = [number, number, number];
type Shape = "heart" | "square" | "circle";

const PAIRS: { name: string; caption: string; shape: Shape; rgb: Rgb; scale?: number }[] = [
  { name: "red-heart", caption: "red heart", shape: "heart", rgb: [220, 30, 40] },
  { name: "red-heart-small", caption: "red heart", shape: "heart", rgb: [200, 20, 30], scale: 0.7 },
  { name: "orange-heart", caption: "orange heart", shape: "heart", rgb: [245, 140, 20] },
  { name: "yellow-heart", caption: "yellow heart", shape: "heart", rgb: [250, 220, 30] },
  { name: "green-heart", caption: "green heart", shape: "heart", rgb: [40, 180, 60] },
  { name: "blue-heart", caption: "blue heart", shape: "heart", rgb: [30, 90, 220] },
  { name: "purple-heart", caption: "purple heart", shape: "heart", rgb: [140, 50, 200] },
  { name: "red-square", caption: "a red square", shape: "square", rgb: [230, 20, 20] },
  { name: "blue-circle", caption: "a blue circle", shape: "circle", rgb: [30, 40, 230] },
  { name: "green-square", caption: "a green square", shape: "square", rgb: [20, 200, 40] },
  { name: "black-circle", caption: "a black circle", shape: "circle", rgb: [10, 10, 10] },
  { name: "yellow-circle", caption: "a yellow circle", shape: "circle", rgb: [240, 220, 20] },
  { name: "purple-square", caption: "a purple square", shape: "square", rgb: [120, 40, 180] },
  { name: "orange-circle", caption: "an orange circle", shape: "circle", rgb: [250, 130, 10] },
];

function inside(shape: Shape, u: number, v: number): boolean {
  if (shape === "square") return Math.abs(u) < 0.6 && Math.abs(v) < 0.6;
  if (shape === "circle") return u * u + v * v < 0.45;
  const x = 1.3 * u;
  const y = -1.3 * v + 0.2;
  return (x * x + y * y - 1) ** 3 - x * x * y ** 3 <= 0;
}

/** The corpus as `glide data build` lays it out: PNGs beside an all.jsonl manifest. */
async function writeCorpus(dir: string): Promise<string> {
  const lines: string[] = [];
  for (const pair of PAIRS) {
    const data = Buffer.alloc(SIZE * SIZE * 3, 255);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const scale = pair.scale ?? 1;
        const u = ((x + 0.5) / SIZE - 0.5) * (2 / scale);
        const v = ((y + 0.5) / SIZE - 0.5) * (2 / scale);
        if (inside(pair.shape, u, v)) data.set(pair.rgb, (y * SIZE + x) * 3);
      }
    }
    await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .png()
      .toFile(join(dir, `${pair.name}.png`));
    lines.push(JSON.stringify({ image: `${pair.name}.png`, caption: pair.caption }));
  }
  const manifest = join(dir, "all.jsonl");
  writeFileSync(manifest, `${lines.join("\n")}\n`);
  return manifest;
}

const t2i = fixtureFiles("text2im");
const model = ["--checkpoint", t2i.checkpoint, "--config", t2i.config];
const dir = tempDir();
const corpus = writeCorpus(dir);

test("glide eval --quick --json reports every figure with sane values", async () => {
  const data = await corpus;
  const validation = PAIRS.filter((p) => splitOf(p.name, VALIDATION_FRACTION) === "validation");
  assert.ok(validation.length >= 2, "the split holds some validation pairs (by the keys' hash)");
  const run = glide(
    "eval",
    ...model,
    "--data",
    data,
    "--quick",
    "--steps",
    "5",
    "--validation-fraction",
    String(VALIDATION_FRACTION),
    "--reference-steps",
    "8",
    "--threads",
    "1",
    "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.command, "eval");
  assert.equal(r.model.checkpoint, t2i.checkpoint);
  assert.equal(r.model.variant, "text2im");
  assert.equal(r.model.imageSize, SIZE);
  assert.deepEqual(
    { ...r.settings },
    {
      seeds: 2,
      seed: 0,
      guidance: 3,
      sampler: "dpm++2m",
      steps: 5,
      evaluations: 5,
      captions: 8,
      referenceSteps: 8,
      validationPairs: 16,
      validationFraction: VALIDATION_FRACTION,
      precision: "fp32",
      quick: true,
    },
  );
  assert.deepEqual(r.data, {
    source: data,
    pairs: PAIRS.length,
    train: PAIRS.length - validation.length,
    validation: validation.length,
    skipped: 0,
  });

  assert.equal(r.colour.rows.length, 6);
  assert.equal(r.colour.total, 6);
  assert.ok(r.colour.passed >= 0 && r.colour.passed <= 6);
  assert.equal(r.colour.corpusPassed, 6, "the corpus's own hearts have their colours");
  for (const row of r.colour.rows) {
    assert.equal(row.prompt, `${row.colour} heart`);
    assert.equal(row.hues.length, 2, "one hue per sample");
    assert.equal(typeof row.pass, "boolean");
    assert.ok(row.corpusHues.length >= 1);
  }

  const distinct = (split: "train" | "validation") =>
    new Set(PAIRS.filter((p) => splitOf(p.name, VALIDATION_FRACTION) === split).map((p) => p.caption));
  const trainCaptions = distinct("train");
  const heldOut = [...distinct("validation")].filter((c) => !trainCaptions.has(c));
  for (const [split, expected] of [
    ["train", Math.min(8, trainCaptions.size)],
    ["validation", Math.min(8, heldOut.length)],
  ] as const) {
    const f = r.captionMatch[split];
    assert.equal(f.captions, expected, `${split} captions`);
    assert.equal(f.samples, 2 * expected);
    for (const share of [f.guided, f.unguided, f.chance]) assert.ok(share >= 0 && share <= 1, `${split}: ${share}`);
    assert.ok(f.chance > 0, `${split}: every prompt is some picture's caption`);
  }
  for (const row of r.captionMatch.rows) {
    assert.equal(row.guided.length, 2);
    assert.equal(row.unguided.length, 2);
    for (const c of [...row.guided, ...row.unguided]) assert.ok(PAIRS.some((p) => p.caption === c));
  }

  assert.ok(Number.isFinite(r.validationLoss.loss) && r.validationLoss.loss > 0, `loss ${r.validationLoss.loss}`);
  assert.equal(r.validationLoss.pairs, validation.length);
  const v = r.validationLoss;
  assert.ok(Number.isFinite(v.uncaptionedMse) && v.uncaptionedMse > 0);
  assert.notEqual(v.uncaptionedMse, v.mse, "the fixture's text encoder changes ε: the empty caption must differ");
  assert.ok(Math.abs(v.captionGain - (1 - v.mse / v.uncaptionedMse)) < 1e-12);
  assert.deepEqual(Object.keys(r.convergence), ["sampler", "steps", "psnr", "images"]);
  assert.equal(r.convergence.sampler, "dpm++2m");
  assert.equal(r.convergence.steps, 8);
  assert.equal(r.convergence.images, 6 * 2, "the colour test's samples");
  assert.ok(r.convergence.psnr.min > 0 && r.convergence.psnr.max <= 100, JSON.stringify(r.convergence.psnr));
  for (const kind of ["guided", "unguided", "heldOut"] as const) {
    const d = r.nearestDistance[kind];
    assert.ok(d.min >= 0 && d.mean >= d.min && d.max >= d.mean && d.max <= 2, `${kind}: ${JSON.stringify(d)}`);
  }
  assert.match(run.stderr, /convergence reference: 6 prompts in/);
  assert.ok(r.secondsPerImage.all > 0 && r.secondsPerImage.guided > 0 && r.secondsPerImage.unguided > 0);
  const images =
    (6 + PROBE_PROMPTS.length) * 2 + 2 * 2 * (r.captionMatch.train.captions + r.captionMatch.validation.captions);
  assert.equal(r.secondsPerImage.images, images);
  assert.equal(r.probe.rows.length, PROBE_PROMPTS.length);
  assert.equal(r.probe.figures.samples, PROBE_PROMPTS.length * 2, "the probe's prompts at the eval's seeds");
  for (const key of ["colour", "shape", "place", "heldOutColour", "heldOutShape"] as const) {
    const value = r.probe.figures[key];
    assert.ok(typeof value === "number" && value >= 0 && value <= 1, `probe ${key} ${value}`);
  }
  assert.equal(typeof r.goals.probe, "boolean");
  assert.equal(r.wordGain.timesteps.length, 4);
  for (const kind of ["colour", "shape", "place"] as const) {
    const gains: number[] = r.wordGain.perTimestep[kind];
    assert.ok(gains.length === 4 && gains.every((g) => Number.isFinite(g) && g < 1), `${kind}: ${gains}`);
  }
  assert.equal(typeof r.goals.colour, "boolean");
  assert.equal(typeof r.goals.captionMatch, "boolean");
  assert.match(run.stderr, /caption probe: 19 prompts in/);
  assert.match(run.stderr, /colour test: 6 prompts in/, "progress on stderr");
});

test("glide eval --precision int8: the samples drift from fp32's, the validation loss does not", async () => {
  const data = await corpus;
  // With the reference at the sampler's own steps, fp32 samples are their reference (PSNR capped at
  // 100) and convergence measures int8's drift alone.
  const evalAt = (precision: string) => {
    const r = glide(
      "eval",
      ...model,
      "--data",
      data,
      "--quick",
      "--captions",
      "1",
      "--steps",
      "5",
      "--reference-steps",
      "5",
      "--validation-fraction",
      String(VALIDATION_FRACTION),
      "--precision",
      precision,
      "--threads",
      "1",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const fp32 = evalAt("fp32");
  const int8 = evalAt("int8");
  assert.equal(fp32.settings.precision, "fp32");
  assert.equal(int8.settings.precision, "int8");
  assert.equal(fp32.convergence.psnr.min, 100, "fp32 at the reference's own steps is the reference");
  assert.ok(int8.convergence.psnr.mean < 100 && int8.convergence.psnr.mean > 10, JSON.stringify(int8.convergence));
  assert.equal(int8.validationLoss.loss, fp32.validationLoss.loss, "the validation loss stays fp32");
});

test("glide eval: mistakes get one clear message and exit 1", async () => {
  const data = await corpus;
  const oneLine = (run: { code: number | null; stderr: string }, pattern: RegExp) => {
    assert.equal(run.code, 1);
    assert.match(run.stderr, pattern);
    assert.equal(run.stderr.trim().split("\n").length, 2, run.stderr);
  };
  const missing = glide("eval", ...model, "--data", join(dir, "nothing.jsonl"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^glide: --data .*nothing\.jsonl: no such file or folder\n$/);
  oneLine(glide("eval", ...model, "--data", data, "--captions", "0"), /--captions must be a positive integer/);
  oneLine(glide("eval", ...model, "--data", data, "--seeds", "-1"), /--seeds must be a positive integer/);
  oneLine(
    glide("eval", ...model, "--data", data, "--reference-steps", "-2"),
    /--reference-steps must be a non-negative/,
  );
  const noModel = glide("eval", "--data", data);
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /^glide: glide eval needs --checkpoint FILE/);
});
