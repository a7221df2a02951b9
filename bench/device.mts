// npm run bench:device — the same work on every device present: cpu always, webgpu when an adapter
// answers, cuda when its provider loads. For the released model shapes (`base` and `upsample`
// presets, random weights: speed does not depend on the values) and for the shipped models
// (models/glide-ts-base32 + glide-ts-upsample128), it prints seconds per guided base step, per
// upsampler step, and a whole text → full-size run, each with the ratio to the CPU measured in the
// same run (the CPU's seconds over the device's: above 1, the device is faster).
// Each device and model set runs in its own process (its own memory and onnxruntime state).
// Options: --quick (one step per stage, one run with the compile in it: for software WebGPU, where a
// step takes minutes), --steps N (steps per stage timed, default 4), --timeout S (per device and
// model set, default 1800), --full B+U (on each GPU also a whole warm run at B base and U upsampler
// steps, e.g. 100+27, GLIDE's defaults; the CPU's figure is estimated from its step times),
// --train PRESET:BATCH,… (a training step per device: images/s and the ratio to the CPU),
// --sets released,shipped|none (the model sets timed, default both), --shipped-configs FILE (JSON
// {base, upsampler} configs of the shipped models, random weights: for a machine without the weight
// files), THREADS=n (onnxruntime threads; default all cores).
import "../packages/glide-ts/src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GlideConfig } from "../packages/glide-ts/src/glide/config.ts";
import type { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import * as g from "../packages/glide-ts/src/graph/index.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { type ResolvedDevice, resolveDevice } from "../packages/glide-ts/src/runtime/device.ts";
import { assembleBatch } from "../packages/glide-ts/src/train/batch.ts";
import { buildTrainingGraph, trainStepFor } from "../packages/glide-ts/src/train/objective-graph.ts";
import { TrainingSession } from "../packages/glide-ts/src/train/training-session.ts";
import { Rng } from "../packages/glide-ts/src/util/rng.ts";
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
  /** The whole warm run at --full's steps, on a GPU. */
  full?: { seconds: number; baseSteps: number; upsampleSteps: number };
}

interface TrainFigures {
  imagesPerSecond: number;
  stepSeconds: number;
  /** The first step, its compile included. */
  firstSeconds: number;
  loss: number;
  placement: string;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const threads = Number(process.env.THREADS ?? 0) || undefined;

async function models(set: ModelSet): Promise<{ base: GlideModel; upsampler: GlideModel }> {
  if (set === "released") return { base: randomModel("base"), upsampler: randomModel("upsample") };
  const configs = option("--shipped-configs");
  if (configs !== undefined) {
    const { base, upsampler } = JSON.parse(readFileSync(configs, "utf-8")) as Record<string, GlideConfig>;
    return { base: randomModel(base!), upsampler: randomModel(upsampler!) };
  }
  const base = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" })).model;
  const upsampler = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" }))
    .model;
  return { base, upsampler };
}

/** `B+U` of --full, or null. */
function fullSteps(): { baseSteps: number; upsampleSteps: number } | null {
  const text = option("--full");
  if (text === undefined) return null;
  const [b, u] = text.split("+").map(Number);
  if (!Number.isInteger(b) || !Number.isInteger(u) || b! < 1 || u! < 1)
    throw new Error(`--full wants B+U, got ${text}`);
  return { baseSteps: b!, upsampleSteps: u! };
}

/** In the child: text → full size on `device`, once cold (quick) or warm after a first run. */
async function measure(device: ResolvedDevice, set: ModelSet, steps: number, quick: boolean): Promise<Figures> {
  const { base, upsampler } = await models(set);
  const run = (baseSteps: number, upsampleSteps: number) =>
    textToImage({
      prompt: "a red heart",
      model: base,
      upsampler,
      seed: 1,
      sampler: "ddim",
      steps: baseSteps,
      upsampleSampler: "ddim",
      upsampleSteps,
      device,
      threads,
    });
  let result = await run(steps, steps);
  if (!quick) result = await run(steps, steps);
  const { base: b, upsample: u, totalSeconds } = result.timings;
  const figures: Figures = {
    baseStep: b!.sampling / b!.steps,
    upsampleStep: u!.sampling / u!.steps,
    run: totalSeconds,
    cold: quick,
    steps,
    side: upsampler.config.image_size,
  };
  const full = fullSteps();
  if (full !== null && device !== "cpu") {
    figures.full = { ...full, seconds: (await run(full.baseSteps, full.upsampleSteps)).timings.totalSeconds };
  }
  return figures;
}

/** In the child: training steps of `preset` at `batch` on `device` (median of five after a first). */
async function measureTraining(device: ResolvedDevice, preset: string, batch: number): Promise<TrainFigures> {
  const model = randomModel(preset);
  const graph = buildTrainingGraph(model, { batch });
  const plan = trainStepFor(graph, { clipGradNorm: 1, emaRate: 0.9999 });
  const params = new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!] as const));
  const { executionProvider } = await resolveDevice(device);
  const session = await TrainingSession.create(plan, { params }, { threads, executionProvider, spinning: false });
  const rng = new Rng(1);
  const size = model.config.image_size;
  const examples = Array.from({ length: batch }, (_, i) => ({
    image: Float32Array.from({ length: 3 * size * size }, () => rng.uniform() * 2 - 1),
    caption: `example ${i}`,
  }));
  const { feeds } = assembleBatch(graph, examples, rng);
  let started = performance.now();
  const first = await session.run(feeds, 1e-4);
  const firstSeconds = (performance.now() - started) / 1000;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    started = performance.now();
    await session.run(feeds, 1e-4);
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  const stepSeconds = times[2]!;
  const placement = session.placement;
  await session.release();
  return { imagesPerSecond: batch / stepSeconds, stepSeconds, firstSeconds, loss: first.loss, placement };
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

function inChild<T>(childArgs: string[], timeoutS: number): T | { error: string } {
  const script = fileURLToPath(import.meta.url);
  const started = performance.now();
  const child = spawnSync(process.execPath, [...process.execArgv, script, ...childArgs, ...args], {
    encoding: "utf-8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutS * 1000,
  });
  const seconds = (performance.now() - started) / 1000;
  const last = child.stdout.trim().split("\n").at(-1) ?? "";
  if (child.status !== 0 || !last.startsWith("{")) {
    const why = child.error ? `stopped after ${seconds.toFixed(0)} s (--timeout ${timeoutS})` : `exit ${child.status}`;
    return { error: `${why}: ${(child.stderr.trim().split("\n").at(-1) ?? "").slice(0, 300)}` };
  }
  return JSON.parse(last) as T;
}

const seconds = (s: number) => (s < 10 ? s.toFixed(3) : s.toFixed(1));
const ratio = (mine: number, theirs: number | undefined, faster: "less" | "more" = "less") =>
  theirs === undefined ? "" : ` (${(faster === "less" ? theirs / mine : mine / theirs).toPrecision(3)}× cpu)`;

function printSet(set: ModelSet, devices: ResolvedDevice[], steps: number, quick: boolean, timeoutS: number): void {
  console.log(`\n${MODEL_SETS[set]}:`);
  let cpu: Figures | null = null;
  for (const device of devices) {
    const figures = inChild<Figures>(["--child", device, set, String(steps), quick ? "quick" : "warm"], timeoutS);
    if ("error" in figures) {
      console.log(`  ${device.padEnd(7)} not measured: ${figures.error}`);
      continue;
    }
    if (device === "cpu") cpu = figures;
    console.log(
      `  ${device.padEnd(7)} base step ${seconds(figures.baseStep)} s${ratio(figures.baseStep, cpu?.baseStep)}, ` +
        `upsampler step ${seconds(figures.upsampleStep)} s${ratio(figures.upsampleStep, cpu?.upsampleStep)}, ` +
        `text → ${figures.side}×${figures.side} (${figures.steps}+${figures.steps} steps${figures.cold ? ", compile included" : ""}) ` +
        `${seconds(figures.run)} s${ratio(figures.run, cpu?.run)}`,
    );
    const full = figures.full;
    if (full !== undefined) {
      const { baseSteps, upsampleSteps } = full;
      // The CPU's whole run at these steps, from its step times and its run's other work.
      const estimate =
        cpu === null
          ? undefined
          : cpu.run -
            cpu.steps * (cpu.baseStep + cpu.upsampleStep) +
            baseSteps * cpu.baseStep +
            upsampleSteps * cpu.upsampleStep;
      console.log(
        `  ${device.padEnd(7)} text → ${figures.side}×${figures.side} at ${baseSteps}+${upsampleSteps} steps (warm): ` +
          `${seconds(full.seconds)} s${estimate === undefined ? "" : ` (cpu estimated from its step times: ${seconds(estimate)} s, ${(estimate / full.seconds).toPrecision(3)}×)`}`,
      );
    }
  }
}

function printTraining(cases: [string, number][], devices: ResolvedDevice[], timeoutS: number): void {
  for (const [preset, batch] of cases) {
    console.log(`\ntraining step, ${preset} preset, batch ${batch} (median of 5 after a first step):`);
    let cpu: TrainFigures | null = null;
    for (const device of devices) {
      const figures = inChild<TrainFigures>(["--child-train", device, preset, String(batch)], timeoutS);
      if ("error" in figures) {
        console.log(`  ${device.padEnd(7)} not measured: ${figures.error}`);
        continue;
      }
      if (device === "cpu") cpu = figures;
      console.log(
        `  ${device.padEnd(7)} ${figures.imagesPerSecond.toPrecision(4)} images/s${ratio(figures.imagesPerSecond, cpu?.imagesPerSecond, "more")}, ` +
          `step ${seconds(figures.stepSeconds)} s, first step (compile included) ${seconds(figures.firstSeconds)} s, ` +
          `update on the ${figures.placement === "host" ? "host" : "device (in the graph)"}, first loss ${figures.loss.toFixed(5)}`,
      );
    }
  }
}

/** `PRESET:BATCH,…` of --train. */
function trainingCases(): [string, number][] {
  const text = option("--train");
  if (text === undefined) return [];
  return text.split(",").map((item) => {
    const [preset, batch] = item.split(":");
    if (!preset || !Number.isInteger(Number(batch)) || Number(batch) < 1) {
      throw new Error(`--train wants PRESET:BATCH, got ${item}`);
    }
    return [preset, Number(batch)];
  });
}

async function main(): Promise<void> {
  if (args[0] === "--child") {
    const [, device, set, steps, mode] = args;
    const figures = await measure(device as ResolvedDevice, set as ModelSet, Number(steps), mode === "quick");
    console.log(JSON.stringify(figures));
    return;
  }
  if (args[0] === "--child-train") {
    const [, device, preset, batch] = args;
    console.log(JSON.stringify(await measureTraining(device as ResolvedDevice, preset!, Number(batch))));
    return;
  }
  const quick = args.includes("--quick");
  const steps = quick ? 1 : Number(option("--steps") ?? 4);
  const timeoutS = Number(option("--timeout") ?? 1800);
  const setsText = option("--sets") ?? Object.keys(MODEL_SETS).join(",");
  const sets = (setsText === "none" ? [] : setsText.split(",")) as ModelSet[];
  const unknown = sets.filter((set) => !(set in MODEL_SETS));
  if (unknown.length > 0) throw new Error(`--sets: unknown ${unknown.join(", ")} (expected released, shipped)`);
  const cases = trainingCases();
  fullSteps();
  console.log(
    `bench:device${quick ? " --quick" : ""}: ${steps} step(s) per stage (ddim), batch 1 with guidance (base U-Net batch 2), ` +
      `${quick ? "one cold run (its compile included in the run time)" : "timed on a second, warm run"}; ` +
      `ratio = CPU seconds / device seconds; threads ${threads ?? "all cores"}`,
  );
  const devices = await devicesPresent();
  for (const set of sets) printSet(set, devices, steps, quick, timeoutS);
  printTraining(cases, devices, timeoutS);
}

await main();
