// The larger place probe of the model card (issue #20): 8 prompts naming a side place, 8 samples
// each from seed 0 at ddpm 50, guidance 6, read back by the caption probe's reader (chance ≈ 20 %).
//
//   node --conditions=glide-ts-source --import tsx scripts/place-probe.mts CHECKPOINT… [--threads 1]
import { parseArgs } from "node:util";
import { readShapeSample } from "../packages/eval/src/caption-probe.ts";
import { textToImage } from "../packages/glide-ts/src/index.ts";
import { PLACE_PHRASES } from "../packages/glide-ts/src/internals.ts";
import { loadModel } from "../packages/glide-ts/src/node.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: "string", default: "1" } },
});
if (positionals.length === 0) throw new Error("name one or more base checkpoints");
const PROMPTS = [
  ["red", "square", "left"],
  ["blue", "circle", "right"],
  ["green", "triangle", "top"],
  ["pink", "heart", "bottom"],
  ["yellow", "star", "right"],
  ["purple", "diamond", "left"],
  ["orange", "circle", "bottom"],
  ["black", "square", "top"],
] as const;
const SAMPLES = 8;

for (const checkpoint of positionals) {
  const { model } = await loadModel({ checkpoint });
  const right = { place: 0, colour: 0, shape: 0 };
  const perPrompt: string[] = [];
  for (const [colour, shape, place] of PROMPTS) {
    const result = await textToImage({
      prompt: `a ${colour} ${shape} ${PLACE_PHRASES[place]}`,
      model,
      upsampler: null,
      sampler: "ddpm",
      steps: 50,
      guidanceScale: 6,
      seed: 0,
      batchSize: SAMPLES,
      session: { threads: Number(values.threads) },
    });
    let placed = 0;
    for (const image of result.images) {
      const reading = readShapeSample(image.data, image.width);
      if (reading.place === place) placed++;
      if (reading.colour === colour) right.colour++;
      if (reading.shape === shape) right.shape++;
    }
    right.place += placed;
    perPrompt.push(`${place} ${placed}/${SAMPLES}`);
  }
  const n = PROMPTS.length * SAMPLES;
  const share = (k: number) => `${k}/${n} (${Math.round((100 * k) / n)} %)`;
  console.log(
    `${checkpoint}: place ${share(right.place)}, colour ${share(right.colour)}, shape ${share(right.shape)}; ${perPrompt.join(", ")}`,
  );
}
