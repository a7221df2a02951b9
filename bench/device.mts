// npm run bench:device — the same work on every device present: cpu always, webgpu when an adapter
// answers, cuda when its provider loads. For the released model shapes (`base` and `upsample`
// presets, random weights: speed does not depend on the values) and for the shipped models
// (models/glide-ts-base32 + glide-ts-upsample128), it prints seconds per guided base step, per
// upsampler step, and a whole text → full-size run, each with the ratio to the CPU measured in the
// same run (the CPU's seconds over the device's: above 1, the device is faster).
// Each device and model set runs in its own process (its own memory and onnxruntime state).
// Options: --quick (one step per stage, one run with the compile in it: for software WebGPU, where a
// step takes minutes), --steps N (steps per stage timed, default 4), --timeout S (per device and
// model set, default 1800), THREADS=n (onnxruntime threads; default all cores).
import "../packages/glide-ts/src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { type ResolvedDevice, resolveDevice } from "../packages/glide-ts/src/runtime/device.ts";
import { randomModel } from "./int8-drift.mts";

const MODEL_SETS = {
  released: "released shapes, random weights (base 64 → upsample 256)",
  shipped: "shipped models (glide-ts-base32 → glide-ts-upsample128)",
} as const;
type ModelSet = keyof typeof MODEL_SETS;

interface Figures {
  baseStep: number;
  upsampleStep: number;
  /** Seconds of the whole text → full-size run (with the compile when `cold`). */
  run: number;
  cold: boolean;
  steps: number;
  side: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const threads = Number(process.env.THREADS ?? 0) || undefined;

async function models(set: ModelSet): Promise<{ base: GlideModel; upsampler: GlideModel }> {
  if (set === "released") return { base: randomModel("base"), upsampler: randomModel("upsample") };
  const base = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" })).model;
  const upsampler = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" }))
    .model;
  return { base, upsampler };
}

/** In the child: text → full size on `device`, once cold (quick) or warm after a first run. */
async function measure(device: ResolvedDevice, set: ModelSet, steps: number, quick: boolean): Promise<Figures> {
  const { base, upsampler } = await models(set);
  const run = () =>
    textToImage({
      prompt: "a red heart",
      model: base,
      upsampler,
      seed: 1,
      sampler: "ddim",
      steps,
      upsampleSampler: "ddim",
      upsampleSteps: steps,
      device,
      threads,
    });
  let result = await run();
  if (!quick) result = await run();
  const { base: b, upsample: u, totalSeconds } = result.timings;
  return {
    baseStep: b!.sampling / b!.steps,
    upsampleStep: u!.sampling / u!.steps,
    run: totalSeconds,
    cold: quick,
    steps,
    side: upsampler.config.image_size,
  };
}

async function devicesPresent(): Promise<ResolvedDevice[]> {
  const present: ResolvedDevice[] = ["cpu"];
  for (const gpu of ["webgpu", "cuda"] as const) {
    try {
      await resolveDevice(gpu);
      present.push(gpu);
    } catch (error) {
      console.log(`${gpu}: not measured (${(error as Error).message})`);
    }
  }
  return present;
}

function inChild(device: ResolvedDevice, set: ModelSet, steps: number, quick: boolean, timeoutS: number) {
  const script = fileURLToPath(import.meta.url);
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, script, "--child", device, set, String(steps), quick ? "quick" : "warm"],
    { encoding: "utf-8", stdio: ["ignore", "pipe", "pipe"], timeout: timeoutS * 1000 },
  );
  const seconds = (performance.now() - started) / 1000;
  const last = child.stdout.trim().split("\n").at(-1) ?? "";
  if (child.status !== 0 || !last.startsWith("{")) {
    const why = child.error ? `stopped after ${seconds.toFixed(0)} s (--timeout ${timeoutS})` : `exit ${child.status}`;
    return { error: `${why}: ${(child.stderr.trim().split("\n").at(-1) ?? "").slice(0, 200)}` };
  }
  return JSON.parse(last) as Figures;
}

const seconds = (s: number) => (s < 10 ? s.toFixed(3) : s.toFixed(1));

async function main(): Promise<void> {
  if (args[0] === "--child") {
    const [, device, set, steps, mode] = args;
    const figures = await measure(device as ResolvedDevice, set as ModelSet, Number(steps), mode === "quick");
    console.log(JSON.stringify(figures));
    return;
  }
  const quick = args.includes("--quick");
  const steps = quick ? 1 : option("--steps", 4);
  const timeoutS = option("--timeout", 1800);
  console.log(
    `bench:device${quick ? " --quick" : ""}: ${steps} step(s) per stage (ddim), batch 1 with guidance (base U-Net batch 2), ` +
      `${quick ? "one cold run (its compile included in the run time)" : "timed on a second, warm run"}; ` +
      `ratio = CPU seconds / device seconds; threads ${threads ?? "all cores"}`,
  );
  const devices = await devicesPresent();
  for (const set of Object.keys(MODEL_SETS) as ModelSet[]) {
    console.log(`\n${MODEL_SETS[set]}:`);
    let cpu: Figures | null = null;
    for (const device of devices) {
      const figures = inChild(device, set, steps, quick, timeoutS);
      if ("error" in figures) {
        console.log(`  ${device.padEnd(7)} not measured: ${figures.error}`);
        continue;
      }
      if (device === "cpu") cpu = figures;
      const ratio = (mine: number, theirs: number | undefined) =>
        theirs === undefined ? "" : ` (${(theirs / mine).toPrecision(2)}× cpu)`;
      console.log(
        `  ${device.padEnd(7)} base step ${seconds(figures.baseStep)} s${ratio(figures.baseStep, cpu?.baseStep)}, ` +
          `upsampler step ${seconds(figures.upsampleStep)} s${ratio(figures.upsampleStep, cpu?.upsampleStep)}, ` +
          `text → ${figures.side}×${figures.side} (${figures.steps}+${figures.steps} steps${figures.cold ? ", compile included" : ""}) ` +
          `${seconds(figures.run)} s${ratio(figures.run, cpu?.run)}`,
      );
    }
  }
}

await main();
