// Pictures remember how they were made: glide generate writes its parameters into each PNG, glide
// info reads them back, and running them again gives the same pixels.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readPngText } from "../../packages/glide-ts/src/image/png-text.ts";
import { fixtureFiles, readPng, tempDir } from "../pipelines/helpers.ts";
import { glide } from "./glide-cli.ts";

const dir = tempDir();
const t2i = fixtureFiles("text2im");
const model = ["--checkpoint", t2i.checkpoint, "--config", t2i.config, "--threads", "1"];

test("PNG parameters round-trip: write, glide info, regenerate from them → identical pixels", async () => {
  const out = join(dir, "fox.png");
  const first = glide(
    "generate",
    "a fox in the snow",
    ...model,
    "--steps",
    "4",
    "--sampler",
    "ddim",
    "--guidance",
    "2.5",
    "--seed",
    "11",
    "-n",
    "2",
    "--out",
    out,
  );
  assert.equal(first.code, 0, first.stderr);
  const second = join(dir, "fox-2.png");
  const texts = readPngText(readFileSync(second));
  assert.match(
    texts.parameters!,
    /^a fox in the snow\nSteps: 4, Sampler: ddim, CFG scale: 2.5, Seed: 12, Size: 16x16, Model hash: [0-9a-f]{10}, /,
  );
  assert.match(texts.parameters!, /Batch size: 2, Batch pos: 1/);

  const info = glide("info", second, "--json");
  assert.equal(info.code, 0, info.stderr);
  const p = JSON.parse(info.stdout);
  assert.equal(p.prompt, "a fox in the snow");
  assert.deepEqual([p.seed, p.batchSize, p.index, p.width], [12, 2, 1, 16], "image 2 of seed 11 has seed 12");
  assert.equal(p.base.sampler, "ddim");
  assert.equal(p.base.guidanceScale, 2.5);
  assert.match(
    glide("info", second).stdout,
    /seed +12 \(image 2 of 2 of a run with seed 11; -n 1 with this seed remakes it\)/,
  );

  // The recorded settings make the same picture again, alone.
  const again = join(dir, "again.png");
  const rerun = glide(
    "generate",
    p.prompt,
    ...model,
    "--steps",
    String(p.base.steps),
    "--sampler",
    p.base.sampler,
    "--guidance",
    String(p.base.guidanceScale),
    "--seed",
    String(p.seed),
    "-n",
    "1",
    "--out",
    again,
  );
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual((await readPng(again)).data, (await readPng(second)).data);
});

test("-n 3 --seed 5: each image's file and seed printed; -n 1 --seed 7 makes image 3 again, pixel for pixel", async () => {
  const out = join(dir, "trio.png");
  const three = glide("generate", "a red kite", ...model, "--steps", "3", "--seed", "5", "-n", "3", "--out", out);
  assert.equal(three.code, 0, three.stderr);
  assert.match(three.stdout, /wrote .*trio\.png \(grid of 3, seeds 5–7\)/);
  for (const [i, seed] of [5, 6, 7].entries()) {
    assert.match(three.stdout, new RegExp(`wrote .*trio-${i + 1}\\.png \\(16×16, seed ${seed}\\)`));
  }
  const alone = join(dir, "third.png");
  const one = glide("generate", "a red kite", ...model, "--steps", "3", "--seed", "7", "-n", "1", "--out", alone);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /wrote .*third\.png \(16×16, seed 7\)/);
  const third = await readPng(join(dir, "trio-3.png"));
  assert.deepEqual((await readPng(alone)).data, third.data, "image 3 of seed 5 is seed 7 alone");
  assert.notDeepEqual((await readPng(join(dir, "trio-2.png"))).data, third.data, "the images differ");
});

test("--out in a folder that does not exist: the folder is made, and the run says so", () => {
  const out = join(dir, "new", "deeper", "heart.png");
  const run = glide("generate", "a heart", ...model, "--steps", "2", "--out", out);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /creating the folder .*new\/deeper for --out/);
  assert.ok(readFileSync(out).length > 0);
});

test("glide info on a PNG glide did not write says so in one line", async () => {
  const first = join(dir, "fox.png");
  // The grid carries no parameters of its own.
  const grid = glide("info", first);
  assert.equal(grid.code, 1);
  assert.match(grid.stderr, /without glide-ts parameters/);
});
