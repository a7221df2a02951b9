// The colour test on the shipped base model, small and fast (2 samples a colour, 10 steps, no
// upsampler): a broken default model (NaN, blank or grey pictures, or fewer colours right than the
// committed weights score here) fails the build. models/README.md gives the full `glide eval`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { COLOUR_PROMPTS, colourFigure, colourRow, dominantHue } from "../../packages/eval/src/colour.ts";
import { loadModelsFor } from "../../packages/glide-ts/src/models/resolve.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";

/**
 * Colours the shipped weights get right at this size (of 6). Version 3 does not follow its
 * captions yet (0/6, as in the card), so only the other checks can fail now; raise this with each
 * better version.
 */
const SHIPPED_COLOUR_FLOOR = 0;

test("colour test on the shipped base model: finite, coloured samples, at least the committed score", async () => {
  const { base } = await loadModelsFor("generate", { upsample: false });
  const rows = [];
  for (const { prompt, colour } of COLOUR_PROMPTS) {
    const result = await textToImage({ prompt, model: base.model, steps: 10, seed: 1, batchSize: 2, threads: 2 });
    const hues = result.images.map((image) => dominantHue(image.data));
    rows.push(colourRow(prompt, colour, hues));
    for (const image of result.images) assert.ok(image.data.every(Number.isFinite));
  }
  const figure = colourFigure(rows);
  const report = rows.map((r) => `${r.prompt}: ${r.hues.join(" ")}`).join("; ");
  // A blank or grey model draws no colour at all; a trained one may draw a pale shape now and then
  // (version 3 does for one of these twelve samples).
  const coloured = rows.flatMap((r) => r.hues).filter((h) => h !== "none").length;
  assert.ok(
    coloured >= (3 / 4) * rows.length * 2,
    `${coloured} of ${rows.length * 2} samples have a colour (${report})`,
  );
  assert.ok(figure.passed >= SHIPPED_COLOUR_FLOOR, `${figure.passed}/6 colours (${report})`);
});
