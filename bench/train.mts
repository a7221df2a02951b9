// npm run bench:train — a training step of the CPU presets: images/s, peak memory, and the ratio of
// one step (forward, backward, AdamW, EMA) to one forward pass of the same graph and batch, with the
// update applied on the host (the default on the CPU) and, for comparison, inside the step graph.
// Each preset runs in its own process so that its peak RSS is its own. The goals of issue #14 are
// printed beside the figures: a step ≤ 3× a forward pass (tiny, small), and for small at batch 8
// ≥ 2.5× the reference PyTorch code's images/s, a figure given to the project (1.32 images/s on a
// 2-core machine, turn 1), not re-measured here: there is no PyTorch on this machine.
import "../packages/glide-ts/src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../packages/glide-ts/src/glide/presets.ts";
import * as g from "../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph } from "../packages/glide-ts/src/runtime/session.ts";
import { assembleBatch } from "../packages/glide-ts/src/train/batch.ts";
import { buildTrainingGraph, trainStepFor } from "../packages/glide-ts/src/train/objective-graph.ts";
import { type OptimizerPlacement, TrainingSession } from "../packages/glide-ts/src/train/training-session.ts";
import { Rng } from "../packages/glide-ts/src/util/rng.ts";

const threads = Number(process.env.THREADS ?? 0) || undefined;
const STEP_FORWARD_GOAL = 3;
const PYTORCH_SMALL_BATCH8_IMAGES_PER_SECOND = 1.32;
const PYTORCH_RATIO_GOAL = 2.5;
const cases: [string, number][] = [
  ["tiny", 8],
  ["small", 8],
  ["small-upsample", 2],
];

async function median(run: () => Promise<unknown>, repeats: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function measure(preset: string, batch: number): Promise<void> {
  const config = presetConfig(preset);
  const model = new GlideModel(config, { init: 1 });
  const graph = buildTrainingGraph(model, { batch });
  const plan = trainStepFor(graph, { clipGradNorm: 1, emaRate: 0.9999 });
  const params = new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!] as const));
  const forward = await CompiledGraph.compile({ loss: graph.loss }, { threads, params: "inputs", spinning: false });

  const rng = new Rng(1);
  const size = config.image_size;
  const examples = Array.from({ length: batch }, (_, i) => ({
    image: Float32Array.from({ length: 3 * size * size }, () => rng.uniform() * 2 - 1),
    caption: `example ${i}`,
  }));
  const { feeds } = assembleBatch(graph, examples, rng);
  const paramFeeds = Object.fromEntries(params);
  const forwardSeconds = await median(() => forward.run({ ...paramFeeds, ...feeds }), 5);
  await forward.release();
  const stepSeconds: Record<OptimizerPlacement, number> = { host: 0, graph: 0 };
  let peak = 0;
  for (const optimizer of ["host", "graph"] as const) {
    const session = await TrainingSession.create(plan, { params }, { threads, optimizer, spinning: false });
    stepSeconds[optimizer] = await median(() => session.run(feeds, 1e-4), 5);
    await session.release();
    // The host update is the default: its peak is the one that counts (the graph form's two buffer sets come later).
    if (optimizer === "host") peak = process.resourceUsage().maxRSS * 1024;
  }
  const count = [...params.values()].reduce((s, v) => s + v.length, 0);
  const ratio = (seconds: number) => `${(seconds / forwardSeconds).toFixed(2)}×`;
  console.log(`${preset} (${(count / 1e6).toFixed(1)}M params, ${size}×${size}), batch ${batch}:`);
  console.log(
    `  training step ${stepSeconds.host.toFixed(2)} s = ${(batch / stepSeconds.host).toFixed(2)} images/s; ` +
      `forward ${forwardSeconds.toFixed(3)} s; step/forward ${ratio(stepSeconds.host)} ` +
      `(update inside the graph: ${stepSeconds.graph.toFixed(2)} s, ${ratio(stepSeconds.graph)})`,
  );
  const stepRatio = stepSeconds.host / forwardSeconds;
  if (preset === "tiny" || preset === "small") {
    console.log(
      `  goal step/forward ≤ ${STEP_FORWARD_GOAL}×: ${stepRatio <= STEP_FORWARD_GOAL ? "met" : "not met"} (${stepRatio.toFixed(2)}×)`,
    );
  }
  if (preset === "small" && batch === 8) {
    const vsPytorch = batch / stepSeconds.host / PYTORCH_SMALL_BATCH8_IMAGES_PER_SECOND;
    console.log(
      `  against the reference PyTorch code (${PYTORCH_SMALL_BATCH8_IMAGES_PER_SECOND} images/s, given, not re-measured): ` +
        `${vsPytorch.toFixed(2)}×; goal ≥ ${PYTORCH_RATIO_GOAL}×: ${vsPytorch >= PYTORCH_RATIO_GOAL ? "met" : "not met"}`,
    );
  }
  console.log(
    `  peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB (parameters, gradients, AdamW moments, EMA: ${((count * 4 * 5) / 2 ** 30).toFixed(2)} GiB)`,
  );
}

const [preset, batch] = process.argv.slice(2);
if (preset) {
  await measure(preset, Number(batch));
} else {
  console.log(`onnxruntime-node, threads: ${threads ?? "default"}`);
  for (const [name, n] of cases) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name, String(n)], {
      stdio: "inherit",
    });
    if (child.status !== 0) process.exitCode = 1;
  }
}
