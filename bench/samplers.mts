// npm run bench:samplers — the sampler defaults, by measurement, on the shipped models:
//   - base (glide-ts-base32): two prompts, --seeds samples each, guidance 3, at each setting:
//     convergence (PSNR against DPM-Solver++ at --reference-steps from the same noise) and the RMS
//     signature distance to the nearest training picture (beside the held-out pictures' own), as
//     `glide eval --reference-steps` computes them (src/eval/sampler-figures.ts), and seconds per
//     image. The colour test, caption match and validation loss are left out: at chance for this
//     model (models/README.md), or independent of the sampler.
//   - upsampler (glide-ts-upsample128): `glide eval`'s super-res figures on --pairs held-out pairs
//     of the 128 px corpus (PSNR, low-frequency PSNR, SSIM against the true picture; a bicubic
//     resize as the baseline), seconds per image.
// Options: --corpus DIR (default .cache/default-model/corpus: 32/ and 128/ in it), --seeds N (2),
// --pairs N (3), --reference-steps N (100), --base "dpm++2m:15,dpm++2m:20,…" and --upsampler
// "ddim:fast27,dpm++2m:10,…" (sampler:steps lists), --threads N (all cores). The settings run one
// after another in this process: compare the seconds within one run.
import "../packages/glide-ts/src/platform/node.ts";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signature } from "../packages/eval/src/caption-match.ts";
import { indexCorpus } from "../packages/eval/src/corpus-index.ts";
import { type FigureSummary, summarize } from "../packages/eval/src/image-quality.ts";
import {
  convergence,
  heldOutDistances,
  isDeterministic,
  nearestDistance,
  REFERENCE_SAMPLER,
  trainingSignatures,
} from "../packages/eval/src/sampler-figures.ts";
import { runUpsampleEval } from "../packages/eval/src/upsample-eval.ts";
import { DEFAULT_SAMPLER_STEPS } from "../packages/glide-ts/src/diffusion/samplers/index.ts";
import { imageToTensor, type RgbImage } from "../packages/glide-ts/src/image/pixels.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { DEFAULT_GUIDANCE, textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { DEFAULT_SAMPLER } from "../packages/glide-ts/src/pipelines/two-stage.ts";
import { DEFAULT_UPSAMPLE_SAMPLER, DEFAULT_UPSAMPLE_STEPS } from "../packages/glide-ts/src/pipelines/upsample.ts";

const { values: flags } = parseArgs({
  options: {
    corpus: { type: "string", default: ".cache/default-model/corpus" },
    seeds: { type: "string", default: "4" },
    pairs: { type: "string", default: "3" },
    "reference-steps": { type: "string", default: "100" },
    base: { type: "string", default: "dpm++2m:15,dpm++2m:20,dpm++2m:25,dpm++2m:50,ddim:25,plms:25" },
    upsampler: { type: "string", default: "ddim:fast27,dpm++2m:10,dpm++2m:15,dpm++2m:20,dpm++2m:27" },
    threads: { type: "string" },
  },
});
const count = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
};
const seeds = count("seeds", flags.seeds!);
const pairs = count("pairs", flags.pairs!);
const referenceSteps = count("reference-steps", flags["reference-steps"]!);
const session = flags.threads ? { threads: count("threads", flags.threads) } : {};
const settingsOf = (list: string) =>
  (list.trim() === "" ? [] : list.split(",")).map((item) => {
    const [sampler, steps] = item.trim().split(":") as [string, string | undefined];
    if (!steps) throw new Error(`expected sampler:steps, got '${item}'`);
    return { sampler, steps: /^\d+$/.test(steps) ? Number(steps) : steps };
  });
const baseSettings = settingsOf(flags.base!);
// The shipped base draws what the seed decides, whatever the prompt (models/README.md), so the
// figures' spread comes from the seeds; two prompts of different colours keep that honest.
const PROMPTS = ["red heart", "a dog"];
const upsamplerSettings = settingsOf(flags.upsampler!);

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const log = (line: string) => process.stderr.write(`[${elapsed()}] ${line}\n`);
const load = () => loadavg()[0]!.toFixed(1);
const loads: number[] = [];

const base = (
  await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors", weightsInMemory: true })
).model;
const upsampler = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" })).model;
const data32 = join(flags.corpus!, "32", "all.jsonl");
const data128 = join(flags.corpus!, "128", "all.jsonl");

interface BaseRow {
  sampler: string;
  steps: number | string;
  evaluations: number;
  convergence: FigureSummary | null;
  distance: FigureSummary | null;
  seconds: number;
}
/** Every prompt × seed drawn with one setting: the pictures, the evaluations and the sampling seconds. */
async function drawAll(sampler: string, steps: number | string) {
  const images: RgbImage[] = [];
  let seconds = 0;
  let evaluations = 0;
  for (const prompt of PROMPTS) {
    const t = performance.now();
    const r = await textToImage({
      prompt,
      model: base,
      upsampler: null,
      sampler,
      steps,
      seed: 0,
      batchSize: seeds,
      session,
    });
    seconds += (performance.now() - t) / 1000;
    evaluations = r.settings.base!.evaluations;
    images.push(...r.images);
  }
  return { images, seconds: seconds / images.length, evaluations };
}
/** The base settings' rows and the held-out pictures' own distance; nothing without settings. */
async function benchBase(): Promise<{ rows: BaseRow[]; heldOut: FigureSummary | null }> {
  if (baseSettings.length === 0) return { rows: [], heldOut: null };
  log(`indexing ${data32}`);
  const corpus = await indexCorpus(data32, {
    resolution: base.config.image_size,
    validationFraction: 0.02,
  });

  const pool = trainingSignatures(corpus);
  const heldOut = summarize(heldOutDistances(corpus, pool));
  // Compile the sessions and warm up before anything is timed.
  await textToImage({
    prompt: PROMPTS[0]!,
    model: base,
    upsampler: null,
    steps: 2,
    seed: 0,
    batchSize: seeds,
    session,
  });
  log(`base reference: ${REFERENCE_SAMPLER} ${referenceSteps} (load ${load()})`);
  const reference = (await drawAll(REFERENCE_SAMPLER, referenceSteps)).images;
  const rows: BaseRow[] = [];
  for (const s of baseSettings) {
    log(`base ${s.sampler} ${s.steps} (load ${load()})`);
    loads.push(loadavg()[0]!);
    const drawn = await drawAll(s.sampler, s.steps);
    rows.push({
      ...s,
      evaluations: drawn.evaluations,
      convergence: isDeterministic(s.sampler) ? convergence(drawn.images, reference) : null,
      distance: summarize(
        drawn.images.map((im) => nearestDistance(pool, signature(imageToTensor(im), base.config.image_size))),
      ),
      seconds: drawn.seconds,
    });
  }
  return { rows, heldOut };
}
const { rows: baseRows, heldOut } = await benchBase();

interface UpRow {
  sampler: string;
  steps: number | string;
  evaluations: number;
  psnr: FigureSummary | null;
  lowFrequencyPsnr: FigureSummary | null;
  ssim: FigureSummary | null;
  seconds: number | null;
}
const upRows: UpRow[] = [];
let bicubic: UpRow | null = null;
for (const s of upsamplerSettings) {
  log(`upsampler ${s.sampler} ${s.steps} (load ${load()})`);
  loads.push(loadavg()[0]!);
  const r = await runUpsampleEval({
    model: upsampler,
    data: data128,
    pairs,
    seed: 0,
    sampler: s.sampler,
    steps: s.steps,
    validationFraction: 0.02,
    session,
  });
  upRows.push({
    sampler: s.sampler,
    steps: r.settings.steps,
    evaluations: r.settings.evaluations,
    ...r.upsampled,
    seconds: r.secondsPerImage,
  });
  bicubic ??= { sampler: "bicubic resize (baseline)", steps: "—", evaluations: 0, ...r.bicubic, seconds: null };
}

const spread = (s: FigureSummary | null, digits: number) =>
  s ? `${s.mean.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : "—";
const sec = (x: number | null) => (x === null ? "—" : `${x.toFixed(2)} s`);
const mark = (sampler: string, steps: number | string, isDefault: boolean) =>
  `${sampler} ${steps}${isDefault ? " (default)" : ""}`;

const out: string[] = [];
if (baseRows.length > 0) {
  out.push(
    `base: glide-ts-base32, ${PROMPTS.map((p) => `"${p}"`).join(" and ")} × ${seeds} seeds (one batch from seed 0), guidance ${DEFAULT_GUIDANCE}; convergence: PSNR against ${REFERENCE_SAMPLER} at ${referenceSteps} steps from the same noise; nearest training picture: RMS signature distance (the held-out corpus pictures' own: ${spread(heldOut, 4)})`,
  );
  out.push("");
  out.push(
    "| base sampler, steps | evaluations | convergence PSNR, dB | nearest training picture, RMS | seconds per image |",
  );
  out.push("| --- | --- | --- | --- | --- |");
  for (const r of baseRows) {
    const isDefault = r.sampler === DEFAULT_SAMPLER && r.steps === DEFAULT_SAMPLER_STEPS[DEFAULT_SAMPLER];
    out.push(
      `| ${mark(r.sampler, r.steps, isDefault)} | ${r.evaluations} | ${spread(r.convergence, 1)} | ${spread(r.distance, 4)} | ${sec(r.seconds)} |`,
    );
  }
  out.push("");
}
if (upRows.length > 0) {
  out.push(
    `upsampler: glide-ts-upsample128, the first ${pairs} held-out pairs of ${data128} (pair i from seed i), low-res input as in training, temperature 0.997`,
  );
  out.push("");
  out.push("| upsampler sampler, steps | evaluations | PSNR, dB | low-frequency PSNR, dB | SSIM | seconds per image |");
  out.push("| --- | --- | --- | --- | --- | --- |");
  for (const r of [...upRows, ...(bicubic ? [bicubic] : [])]) {
    const isDefault =
      r.sampler === DEFAULT_UPSAMPLE_SAMPLER && r.steps === DEFAULT_UPSAMPLE_STEPS[DEFAULT_UPSAMPLE_SAMPLER];
    const name = r.evaluations === 0 ? r.sampler : mark(r.sampler, r.steps, isDefault);
    out.push(
      `| ${name} | ${r.evaluations || "—"} | ${spread(r.psnr, 2)} | ${spread(r.lowFrequencyPsnr, 2)} | ${spread(r.ssim, 3)} | ${sec(r.seconds)} |`,
    );
  }
  out.push("");
}
out.push(
  `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} over the run (${elapsed()}), threads ${session.threads ?? "all cores"}`,
);
process.stdout.write(`${out.join("\n")}\n`);
