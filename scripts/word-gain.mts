// The word gain of one or more base checkpoints, per timestep (the model card's place-word table).
//
//   node --conditions=glide-ts-source --import tsx scripts/word-gain.mts CHECKPOINT…

import { wordGain } from "../packages/eval/src/word-gain.ts";
import { loadModel } from "../packages/glide-ts/src/node.ts";

for (const checkpoint of process.argv.slice(2)) {
  const { model } = await loadModel({ checkpoint });
  const t0 = performance.now();
  const g = await wordGain(model, { session: { threads: 1 } });
  const f = (v: number[]) => v.map((x) => x.toFixed(3)).join(" ");
  console.log(
    checkpoint,
    `t ${g.timesteps.join(" ")}: colour ${f(g.perTimestep.colour)} | shape ${f(g.perTimestep.shape)} | place ${f(g.perTimestep.place)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}
