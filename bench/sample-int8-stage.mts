// One stage of bench:sample's int8 comparison in its own process (so that one model's sessions and
// calibration graphs are freed before the next model's: both in one process outgrow this machine):
// the released shapes (random weights) sampled in fp32 and int8, alternated; prints a summary line
// and, last, a JSON line with the median step seconds. Argument: base | upsample, then the step count.
import "../packages/glide-ts/src/platform/node.ts";
import type { RgbImage } from "../packages/glide-ts/src/image/pixels.ts";
import { int8PlanOf } from "../packages/glide-ts/src/pipelines/int8-plan.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { upsample } from "../packages/glide-ts/src/pipelines/upsample.ts";
import { randomModel } from "./int8-drift.mts";
import { stepTimes } from "./sample-int8.mts";

const [stage, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg);
const threads = Number(process.env.THREADS ?? 0) || undefined;
const prompt = "an oil painting of a corgi";
const picture: RgbImage = {
  width: 64,
  height: 64,
  channels: 3,
  data: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7) % 256),
};
const model = randomModel(stage === "base" ? "base" : "upsample");
// The int8 plan first, before any session exists: calibration's graphs on top of the fp32 sessions
// outgrow this machine's memory for the upsampler.
const planStart = performance.now();
await int8PlanOf(model, { threads });
const planSeconds = (performance.now() - planStart) / 1000;
const times = await stepTimes((precision, onProgress) =>
  stage === "base"
    ? textToImage({ prompt, model, sampler: "dpm++2m", steps, seed: 1, threads, precision, onProgress })
    : upsample({ image: picture, prompt, upsampler: model, steps, seed: 1, threads, precision, onProgress }),
);
const listed = (values: number[]) => values.map((v) => v.toFixed(2)).join(", ");
console.log(
  stage === "base"
    ? "released base shapes (random weights), guided step at batch 2:"
    : "released upsample shapes (random weights), 64 → 256 step at batch 1:",
);
console.log(
  `  fp32 ${times.fp32.toFixed(2)} s | int8 ${times.int8.toFixed(2)} s → ${(times.int8 / times.fp32).toFixed(2)}× (steps fp32 ${listed(times.fp32Steps)}; int8 ${listed(times.int8Steps)}); int8 calibration ${planSeconds.toFixed(1)} s; peak RSS ${((process.resourceUsage().maxRSS * 1024) / 2 ** 30).toFixed(2)} GiB`,
);
console.log(JSON.stringify({ fp32: times.fp32, int8: times.int8 }));
