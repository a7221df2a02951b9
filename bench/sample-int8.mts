// bench:sample's int8 parts: whole runs of the shipped models at fixed seeds in fp32 and int8 (time
// and the PSNR of the final picture against fp32's), and step times of a pipeline in both precisions.
import type { RgbImage } from "../packages/glide-ts/src/image/pixels.ts";
import type { Precision } from "../packages/glide-ts/src/int8/plan.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { releaseSessions } from "../packages/glide-ts/src/pipelines/sessions.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import type { PipelineResult, ProgressEvent } from "../packages/glide-ts/src/pipelines/types.ts";

/** PSNR in dB of two pictures of the same size (Infinity when equal). */
export function psnr(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i]! - b.data[i]!) ** 2;
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.data.length) / sum);
}

const PROMPTS = ["red heart", "a smiling sun"];

/** The upsampler as the reference's text2im notebook runs it (this benchmark's workload). */
export const UPSAMPLE_FAST27 = { upsampleSampler: "ddim", upsampleSteps: "fast27" } as const;

/**
 * The shipped base + upsampler (25 dpm++2m + DDIM fast27, the defaults when the README's figures
 * were printed), fp32 then int8 for each seed.
 */
export async function shippedInt8Runs(seeds: readonly number[], threads: number | undefined): Promise<void> {
  const base = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" })).model;
  const upsampler = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" }))
    .model;
  const run = (precision: Precision, seed: number, prompt: string) =>
    textToImage({ prompt, model: base, upsampler, seed, threads, precision, ...UPSAMPLE_FAST27 });
  // Warm-up: compile both precisions' sessions (and calibrate) outside the timed runs.
  const setupStart = performance.now();
  await run("fp32", 0, PROMPTS[0]!);
  const fp32Setup = (performance.now() - setupStart) / 1000;
  const int8Start = performance.now();
  await run("int8", 0, PROMPTS[0]!);
  const int8Setup = (performance.now() - int8Start) / 1000;
  console.log(
    `  first runs (compile; int8 also calibrates both models): fp32 ${fp32Setup.toFixed(1)} s, int8 ${int8Setup.toFixed(1)} s`,
  );
  for (const [i, seed] of seeds.entries()) {
    const prompt = PROMPTS[i % PROMPTS.length]!;
    const fp32 = await run("fp32", seed, prompt);
    const int8 = await run("int8", seed, prompt);
    const t = (r: PipelineResult) => r.timings.base!.sampling + r.timings.upsample!.sampling;
    console.log(
      `  "${prompt}", seed ${seed}: fp32 ${t(fp32).toFixed(2)} s, int8 ${t(int8).toFixed(2)} s (${(t(int8) / t(fp32)).toFixed(2)}×); PSNR against fp32: 128×128 ${psnr(fp32.images[0]!, int8.images[0]!).toFixed(1)} dB, 32×32 base ${psnr(fp32.lowRes![0]!, int8.lowRes![0]!).toFixed(1)} dB`,
    );
  }
  await releaseSessions(base);
  await releaseSessions(upsampler);
}

/** Records when each sampling step ends; the median step time resists load spikes. */
export function stepClock() {
  const ends: number[] = [];
  return {
    onProgress: (e: ProgressEvent) => {
      if (e.kind === "step") ends.push(performance.now());
    },
    steps(): number[] {
      return ends.slice(1).map((t, i) => (t - ends[i]!) / 1000);
    },
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Median step seconds of `run` in each precision, the two alternated `rounds` times so that a load
 * spike of the shared machine hits both; also the setup of the first int8 run (compile + calibration).
 */
export async function stepTimes(
  run: (precision: Precision, onProgress: (e: ProgressEvent) => void) => Promise<PipelineResult>,
  rounds = 2,
): Promise<{ fp32: number; int8: number; int8Setup: number; fp32Steps: number[]; int8Steps: number[] }> {
  const steps: Record<Precision, number[]> = { fp32: [], int8: [] };
  let int8Setup = 0;
  for (let r = 0; r < rounds; r++) {
    for (const precision of ["fp32", "int8"] as const) {
      const clock = stepClock();
      const result = await run(precision, clock.onProgress);
      if (precision === "int8" && r === 0) {
        int8Setup = (result.timings.base ?? result.timings.upsample)!.setup;
      }
      steps[precision].push(...clock.steps());
    }
  }
  return {
    fp32: median(steps.fp32),
    int8: median(steps.int8),
    int8Setup,
    fp32Steps: steps.fp32,
    int8Steps: steps.int8,
  };
}
