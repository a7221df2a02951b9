// Training end to end: a tiny text2im model trained through the public `train()` on four captioned
// 16×16 images (≈2 min here) must lower its loss clearly and, sampled with guidance, give for each
// caption the image it was trained with.
//
// Why these images and this text context (measured on this architecture):
// - Four equiprobable captions carry 2 bits. The eps objective only rewards them at the noise
//   levels where x_t no longer tells the four images apart, so images that differ in a small dot
//   (pairwise ‖δ‖² ≈ 24) put that window mid-schedule (t ≈ 700–950), where uniform timesteps
//   sample it often; images that differ in whole quadrants push it to t > 980 and the caption is
//   never learned in minutes.
// - GLIDE's xf_proj reads the LAST text position. When that is padding, the caption reaches it
//   only through attention, diluted by the padding positions, and a 2-bit signal is not picked up
//   in a few thousand steps. With text_ctx equal to the captions' length (5 tokens), the last
//   position holds each caption's distinct final word.
// - The samples' background colour varies with the seed: with the fixtures' num_channels 32, each
//   GroupNorm32 group is one channel, so the output norm removes every channel's mean and the
//   network cannot set an image's overall colour (the reference's architecture, same limit). The
//   dot, which the caption decides, dominates the distances between the four images.
// - Measured margin: over three training seeds, 2400 steps gave 95 of 96 samples (4 seeds ×
//   guidance 3 and 5) nearest their own image, every one at guidance 5; 1200 steps gave 13–15 of 16.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { tokenizeCaption } from "../../packages/glide-ts/src/glide/tokenizer.ts";
import { loadCheckpointFile } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { train } from "../../packages/glide-ts/src/train/trainer.ts";
import { fixtureConfig } from "../fixtures.ts";
import { DOTS, scoreDots, writeDots } from "./dots.ts";

const TEXT_CTX = 5;
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

test("the captions fill the tiny model's text context exactly", () => {
  for (const caption of Object.keys(DOTS)) {
    const { mask } = tokenizeCaption(caption, TEXT_CTX + 1);
    assert.equal(mask.filter(Boolean).length, TEXT_CTX, caption);
  }
});

test("a tiny model trained on four captioned images learns each caption", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-captions-"));
  try {
    const images = await writeDots(join(root, "data"));
    const config = resolveConfig({ ...fixtureConfig(), text_ctx: TEXT_CTX });
    const run = await train({
      data: join(root, "data"),
      outDir: join(root, "run"),
      config,
      steps: 2400,
      batchSize: 4,
      lr: 2e-3,
      lrSchedule: "cosine",
      emaRate: 0.99,
      clipGradNorm: 1,
      seed: 0,
      validationFraction: 0, // all four pairs are training pairs
      threads: 2,
    });
    const first = mean(run.losses.slice(0, 5));
    const last = mean(run.losses.slice(-20));
    assert.ok(last < 0.1 * first, `the loss fell from ${first.toFixed(3)} to only ${last.toFixed(3)}`);

    const model = GlideModel.fromStateDict(config, (await loadCheckpointFile(run.weights)).stateDict);
    const score = await scoreDots(model, images, { seeds: [1, 2], guidance: 5, threads: 2 });
    assert.equal(
      score.right,
      score.total,
      `samples not nearest to their own training image:\n${score.report.join("\n")}`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
