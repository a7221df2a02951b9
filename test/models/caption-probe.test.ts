// The caption probe on the shipped base model, small and fast (2 samples a prompt, 10 steps, no
// upsampler): a model that draws nothing, or follows colour and shape words less than the committed
// weights do here, fails the build. models/README.md gives the full `glide eval` figures.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCaptionProbe } from "../../packages/eval/src/caption-probe.ts";
import { WORD_KINDS, wordGain } from "../../packages/eval/src/word-gain.ts";
import { loadModelsFor } from "../../packages/glide-ts/src/models/resolve.ts";

/**
 * Shares of the 38 samples the committed weights (base version 7: 35 colour, 12 shape; version 6: 31
 * and 13; version 5: 26 and 8; version 4: 15 and 3) get right at these settings, less one sample of
 * slack for another CPU's rounding: raise them with each better version. (At its recommended ddpm 50
 * and guidance 6, version 7 reads shape 88 % against version 6's 74 %; these 10 steps favour colour.)
 */
const SHIPPED_PROBE_FLOOR = { colour: 34 / 38, shape: 11 / 38 };

test("caption probe on the shipped base model: drawn samples, at least the committed colour and shape figures", async () => {
  const { base } = await loadModelsFor("generate", { upsample: false });
  const report = await runCaptionProbe(
    base.model,
    { seeds: 2, seed: 1, sampler: "dpm++2m", steps: 10, guidance: 3 },
    { threads: 2 },
  );
  const { figures } = report;
  const readings = report.rows.flatMap((row) => row.readings);
  const drawn = readings.filter((r) => r.colour !== "none").length;
  assert.ok(drawn >= 0.75 * readings.length, `${drawn} of ${readings.length} samples are drawn`);
  assert.ok(figures.colour >= SHIPPED_PROBE_FLOOR.colour, `colour ${figures.colour}`);
  assert.ok(figures.shape >= SHIPPED_PROBE_FLOOR.shape, `shape ${figures.shape}`);
});

/**
 * Word gain of the committed weights (base version 7: colour 0.290, shape 0.224, place 0.004; mean over
 * t = 979, 949, 899, 799), with slack for another CPU's rounding. Place words are ignored: a version
 * that learns them raises the place figure, and this test with it.
 */
const SHIPPED_WORD_GAIN = { colour: 0.29, shape: 0.224, place: 0.004 };

test("word gain of the shipped base model: colour and shape words used, place words not (yet)", async () => {
  const { base } = await loadModelsFor("generate", { upsample: false });
  const gains = await wordGain(base.model, { session: { threads: 2 } });
  for (const kind of WORD_KINDS) {
    assert.ok(Math.abs(gains.mean[kind] - SHIPPED_WORD_GAIN[kind]) < 0.01, `${kind}: ${gains.mean[kind]}`);
  }
});
