// `glide train` on the three kinds besides text2im (the fixtures' 16×16 configurations): each trains
// from a folder, saves weights that load as its kind, and writes a sample grid (inpainting: the
// centre of the data's first picture redrawn; upsampling: that picture upsampled from 4×4).
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { centreMask, firstPicture } from "../../packages/app/src/cli/train-samples.ts";
import { decodeImage } from "../../packages/glide-ts/src/image/decode.ts";
import { loadModel } from "../../packages/glide-ts/src/pipelines/load-model.ts";
import { SQUARES, writeSquares } from "../train/helpers.ts";
import { FIXTURES, glide } from "./glide-cli.ts";

const KINDS = [
  { fixture: "inpaint", variant: "inpaint" },
  { fixture: "superres", variant: "super-res" },
  { fixture: "superres_inpaint", variant: "super-res-inpaint" },
] as const;

/** `glide train` on `data` with a configuration file, batch 2 and no validation split. */
const trainOn = (data: string, config: string, out: string, ...options: string[]) =>
  glide("train", data, "--config", config, "--out", out, "--batch", "2", "--validation-fraction", "0", ...options);

test("the inpainting grid's mask redraws the centre half and keeps the border", () => {
  const mask = centreMask(16);
  assert.equal(mask.data.filter((v) => v === 0).length, 8 * 8);
  assert.equal(mask.data[0], 255);
  assert.equal(mask.data[4 * 16 + 4], 0);
  assert.equal(mask.data[11 * 16 + 11], 0);
  assert.equal(mask.data[12 * 16 + 12], 255);
});

test("glide train trains inpainting and upsampling models with a sample grid", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-train-kinds-"));
  const data = join(root, "data");
  await writeSquares(data);
  const manifest = JSON.parse(await readFile(join(FIXTURES, "manifest.json"), "utf8"));
  const first = await firstPicture(data, 16);
  const firstColour = [...first.data.subarray(0, 3)];
  assert.ok(
    Object.values(SQUARES).some((c) => c.every((v, i) => Math.abs(v - firstColour[i]!) <= 1)),
    `the first picture is one of the squares, got ${firstColour}`,
  );

  for (const { fixture, variant } of KINDS) {
    const config = join(root, `${fixture}.json`);
    await writeFile(config, JSON.stringify(manifest.cases[fixture].config));
    const out = join(root, fixture);
    const run = trainOn(
      data,
      config,
      out,
      "--steps",
      "2",
      "--threads",
      "1",
      "--sample-every",
      "2",
      "--sample-steps",
      "4",
      "--sample-prompt",
      "a red square",
      "--sample-prompt",
      "a blue square",
    );
    assert.equal(run.code, 0, `${fixture}: ${run.stderr}`);
    assert.match(run.stdout, /trained steps 0→2/);
    const { model } = await loadModel({ checkpoint: join(out, "ema.safetensors") });
    assert.equal(model.variant, variant);

    const grid = await decodeImage(join(out, "samples", "step-000002.png"), "grid");
    assert.deepEqual([grid.width, grid.height], [32, 16], `${fixture}: two 16×16 samples side by side`);
    if (variant === "inpaint") {
      // Outside the redrawn centre, both samples keep the first picture.
      for (const [x, y] of [
        [0, 0],
        [15, 15],
        [16, 0],
        [31, 15],
      ] as const) {
        const pixel = [...grid.data.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 3)];
        assert.ok(
          pixel.every((v, i) => Math.abs(v - firstColour[i]!) <= 1),
          `${fixture}: pixel (${x}, ${y}) is ${pixel}, the picture's is ${firstColour}`,
        );
      }
    }
  }
  // --sample-image replaces the data's first picture.
  const picture = join(root, "green.png");
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 0, g: 255, b: 0 } } })
    .png()
    .toFile(picture);
  const out = join(root, "inpaint-own-picture");
  const run = glide(
    "train",
    data,
    "--config",
    join(root, "inpaint.json"),
    "--out",
    out,
    "--steps",
    "1",
    "--batch",
    "2",
    "--validation-fraction",
    "0",
    "--sample-every",
    "1",
    "--sample-steps",
    "2",
    "--sample-prompt",
    "grass",
    "--sample-image",
    picture,
  );
  assert.equal(run.code, 0, run.stderr);
  const grid = await decodeImage(join(out, "samples", "step-000001.png"), "grid");
  assert.deepEqual([...grid.data.subarray(0, 3)], [0, 255, 0], "the border comes from --sample-image");
});

test("glide train --probe-every logs the caption probe and the word gain to metrics.jsonl", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-train-probe-"));
  const data = join(root, "data");
  await writeSquares(data);
  const manifest = JSON.parse(await readFile(join(FIXTURES, "manifest.json"), "utf8"));
  const config = join(root, "text2im.json");
  await writeFile(config, JSON.stringify(manifest.cases.text2im.config));
  const out = join(root, "run");
  const run = trainOn(data, config, out, "--steps", "1", "--threads", "1", "--probe-every", "1");
  assert.equal(run.code, 0, run.stderr);
  const rows = (await readFile(join(out, "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const probe = rows.find((row) => row.kind === "probe");
  assert.ok(probe, "a probe row");
  assert.equal(probe.step, 1);
  for (const key of ["colour", "shape", "place", "held_out_colour", "held_out_shape"]) {
    assert.ok(probe[key] >= 0 && probe[key] <= 1, `${key}: ${probe[key]}`);
  }
  // A model one step from its initialization ignores its captions (GLIDE zero-initializes the
  // layers that add text), so these are 0 here; their values are tested in test/eval.
  assert.ok(probe.colour_sensitivity >= 0);
  for (const kind of ["colour", "shape", "place"]) {
    const gain = probe[`word_gain_${kind}`];
    assert.ok(Number.isFinite(gain) && gain < 1, `word_gain_${kind}: ${gain}`);
  }
});
