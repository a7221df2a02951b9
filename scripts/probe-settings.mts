// The caption probe of one or more base checkpoints at several sampling settings: how the shipped
// model's recommended sampler, steps and guidance (its `sampling` metadata) are chosen (issue #20).
//
//   node --conditions=glide-ts-source --import tsx scripts/probe-settings.mts CHECKPOINT… \
//     [--settings ddpm:50:6,ddpm:100:6,dpm++2m:25:3] [--seeds 2] [--seed 0] [--threads 1]
import { parseArgs } from "node:util";
import { runCaptionProbe } from "../packages/eval/src/index.ts";
import { loadModel } from "../packages/glide-ts/src/node.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    settings: { type: "string", default: "ddpm:50:6,ddpm:100:6,dpm++2m:25:3,dpm++2m:25:6" },
    seeds: { type: "string", default: "2" },
    // glide eval's probe samples from seed 0; the training probe from seed 1.
    seed: { type: "string", default: "0" },
    threads: { type: "string", default: "1" },
  },
});
if (positionals.length === 0) throw new Error("name one or more base checkpoints");
const settings = values.settings!.split(",").map((entry) => {
  const [sampler, steps, guidance] = entry.split(":");
  if (!sampler || !steps || !guidance) throw new Error(`--settings takes SAMPLER:STEPS:GUIDANCE, got '${entry}'`);
  return { sampler, steps: Number(steps), guidance: Number(guidance) };
});
const percent = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)} %`);

console.log(
  "| checkpoint | sampler, steps, guidance | colour | shape | place | held-out colour / shape | white background |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const checkpoint of positionals) {
  const { model } = await loadModel({ checkpoint });
  for (const s of settings) {
    const { figures: f } = await runCaptionProbe(
      model,
      {
        seeds: Number(values.seeds),
        seed: Number(values.seed),
        sampler: s.sampler,
        steps: s.steps,
        guidance: s.guidance,
      },
      { threads: Number(values.threads) },
    );
    console.log(
      `| ${checkpoint} | ${s.sampler} ${s.steps}, ${s.guidance} | ${percent(f.colour)} | ${percent(f.shape)} | ` +
        `${percent(f.place)} | ${percent(f.heldOutColour)} / ${percent(f.heldOutShape)} | ${percent(f.whiteBackground)} |`,
    );
  }
}
