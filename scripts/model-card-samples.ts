// The model card's sample grid (models/samples.png): the shipped models on a fixed list of prompts,
// one row per prompt, a few seeds each, 128×128 after the upsampler.
//
//   node --conditions=glide-ts-source --import tsx scripts/model-card-samples.ts [--out packages/glide-ts/models/samples.png] [--seeds 3]
import { parseArgs } from "node:util";
import { imageGrid, loadModelsFor, type RgbImage, textToImage, writePng } from "../packages/glide-ts/src/node.ts";

export const CARD_PROMPTS = [
  "red heart",
  "blue heart",
  "a red circle",
  "a blue square",
  "a yellow star",
  "a green triangle on the left",
  "green apple",
  "dog",
];

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "packages/glide-ts/models/samples.png" },
    seeds: { type: "string", default: "3" },
  },
});
const seeds = Number(values.seeds);
const { base, upsampler } = await loadModelsFor("generate");
const images: RgbImage[] = [];
for (const prompt of CARD_PROMPTS) {
  const result = await textToImage({
    prompt,
    model: base.model,
    upsampler: upsampler?.model,
    seed: 1,
    batchSize: seeds,
  });
  images.push(...result.images);
  process.stderr.write(`${prompt}: ${result.timings.totalSeconds.toFixed(1)} s\n`);
}
await writePng(values.out!, imageGrid(images, seeds));
console.log(`wrote ${values.out}: ${CARD_PROMPTS.length} prompts × ${seeds} seeds (rows: ${CARD_PROMPTS.join(", ")})`);
