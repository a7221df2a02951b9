// How much a text2im model's noise prediction depends on its caption, measured directly: the same
// noisy picture at several timesteps, ε for "red heart", "blue heart", "green heart" and the empty
// caption, and the RMS differences between them (ε's own RMS is about 1). The colour words' part of
// it is what guidance has to amplify before a picture's colour follows its prompt.
//
//   node --import tsx scripts/caption-sensitivity.mts [CHECKPOINT] (default: the shipped base)
import "../src/platform/node.ts";
import { calibrationFeeds } from "../src/int8/unet-plan.ts";
import { loadModel } from "../src/pipelines/load-model.ts";
import { textFeeds } from "../src/pipelines/text-features.ts";

const checkpoint = process.argv[2] ?? "models/glide-ts-base32.safetensors";
const TIMESTEPS = [900, 600, 300, 100];
const CAPTIONS = ["red heart", "blue heart", "green heart", ""];

const { model } = await loadModel({ checkpoint });
const rows = CAPTIONS.length;
const conditioning = await textFeeds(model, CAPTIONS, [0, 1, 2, 3], { threads: 1 });
const unet = await model.compileUNet(rows, { threads: 1 });
const { feeds } = calibrationFeeds(model, { batch: rows, conditioning, seed: 3, timesteps: TIMESTEPS });
const size = model.config.image_size;
const perRow = 2 * 3 * size * size;
const epsValues = 3 * size * size;
const rms = (a: Float32Array, b?: Float32Array) =>
  Math.sqrt(a.reduce((sum, v, i) => sum + (v - (b?.[i] ?? 0)) ** 2, 0) / a.length);
const pct = (v: number) => `${(100 * v).toFixed(2)} %`;

console.log(`${checkpoint}: RMS differences of ε between captions, on the same noisy picture`);
for (const [k, feed] of feeds.entries()) {
  // Every row gets row 0's picture, so the captions are the only difference.
  const x = feed.x as Float32Array;
  const picture = x.length / rows;
  for (let r = 1; r < rows; r++) x.set(x.subarray(0, picture), r * picture);
  const out = (await unet.run(feed)).out as Float32Array;
  const eps = (r: number) => out.subarray(r * perRow, r * perRow + epsValues);
  console.log(
    `  t=${TIMESTEPS[k]}: |ε(empty)| ${rms(eps(3)).toFixed(3)}; red − empty ${pct(rms(eps(0), eps(3)))}, ` +
      `red − blue ${pct(rms(eps(0), eps(1)))}, red − green ${pct(rms(eps(0), eps(2)))}`,
  );
}
await unet.release();
