// How much a text2im model's noise prediction depends on the colour word of its caption
// (src/eval/colour-sensitivity.ts): RMS of ε("a red square") − ε("a blue square") and the other pairs,
// on hearts and circles too, over four noisy pictures, per timestep (ε's own RMS is about 1).
//
//   node --conditions=glide-ts-source --import tsx scripts/caption-sensitivity.mts [CHECKPOINT…] (default: the shipped base)
import { colourSensitivity } from "../packages/eval/src/index.ts";
import { loadModel } from "../packages/glide-ts/src/node.ts";

const checkpoints =
  process.argv.length > 2 ? process.argv.slice(2) : ["packages/glide-ts/models/glide-ts-base32.safetensors"];
for (const checkpoint of checkpoints) {
  const { model } = await loadModel({ checkpoint });
  const s = await colourSensitivity(model, { threads: 1 });
  const cells = s.timesteps.map((t, i) => `t=${t} ${(100 * s.perTimestep[i]!).toFixed(2)} %`);
  console.log(`${checkpoint}: colour sensitivity ${(100 * s.mean).toFixed(2)} % (${cells.join(", ")})`);
}
