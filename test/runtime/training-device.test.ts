// A training step of the tiny preset on WebGPU (SwiftShader, the software Vulkan driver of Debian's
// chromium) against the same step on the CPU: the loss, a few parameters' gradients, the gradient
// norm and the direction of the updates agree within the tolerances below.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../../packages/glide-ts/src/glide/presets.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph, type HostArray } from "../../packages/glide-ts/src/runtime/session.ts";
import { assembleBatch } from "../../packages/glide-ts/src/train/batch.ts";
import {
  buildTrainingGraph,
  frozenParamFeeds,
  trainStepFor,
} from "../../packages/glide-ts/src/train/objective-graph.ts";
import { gradientName } from "../../packages/glide-ts/src/train/step-graph.ts";
import { TrainingSession, type TrainingState } from "../../packages/glide-ts/src/train/training-session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
/**
 * Relative to the largest magnitude of the CPU's values (float32 sums in another order, on another
 * device). Measured on SwiftShader for the full tiny preset: loss 1e-7, gradients 2.3e-4 at worst
 * (time_embed.0.weight), 3e-5 the median parameter; the step's updates 99.997% in the CPU's
 * direction (of 6.3M that moved), none more than 8.2e-4 from the CPU's (lr 1e-3). For the half-size
 * network below: loss 2.3e-7, gradients ≤ 3.4e-5, updates 99.983% of 875k, ≤ 5.7e-4.
 */
const TOLERANCE = { loss: 1e-5, gradient: 1e-3, sameDirection: 0.995 };
const LEARNING_RATE = 1e-3;

// The tiny preset's kind of network at half its width and side: SwiftShader is slow, and
// the full tiny step took 5–10 minutes here.
const config = resolveConfig({
  ...presetConfig("tiny"),
  image_size: 16,
  channel_mult: "1,2",
  attention_resolutions: "8,4",
  num_channels: 32,
  num_head_channels: 16,
  xf_width: 32,
  xf_heads: 2,
  text_ctx: 8,
});
const model = new GlideModel(config, { init: 1 });
const graph = buildTrainingGraph(model, { batch: 2 });
const plan = trainStepFor(graph, { clipGradNorm: 1, emaRate: 0.9999 });
const rng = new Rng(5);
// Noise on every parameter: GLIDE's zero-initialised output layers would leave the others no gradient.
const params = new Map(
  graph.params.map((p) => {
    const { name, value } = g.paramAttrs(p);
    return [name, value!.map((v) => v + (rng.uniform() - 0.5) * 0.05)] as const;
  }),
);
const size = config.image_size;
const examples = [0, 1].map((i) => ({
  image: Float32Array.from({ length: 3 * size * size }, () => rng.uniform() * 2 - 1),
  caption: `a red heart ${i}`,
}));
const { feeds } = assembleBatch(graph, examples, rng);
const data: Record<string, HostArray> = { ...frozenParamFeeds(graph), ...feeds };

/** The largest difference between `a` and `b`, over the largest magnitude in `a`. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return worst / Math.max(scale, 1e-30);
}

// The first parameter, one from the middle and the last (the output convolution).
const names = [...params.keys()];
const checked = [names[0]!, names[Math.floor(names.length / 2)]!, names.at(-1)!];

test("the gradient graph of the tiny model on WebGPU: the CPU's loss and gradients", async () => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const outputs = {
    loss: plan.gradientOutputs.loss!,
    ...Object.fromEntries(checked.map((n) => [gradientName(n), plan.gradientOutputs[gradientName(n)]!])),
  };
  const run = async (executionProvider: "cpu" | "webgpu") => {
    const compiled = await CompiledGraph.compile(outputs, { executionProvider, threads: 1, params: "inputs" });
    const out = await compiled.run({ ...Object.fromEntries(params), ...data });
    await compiled.release();
    return out as Record<string, Float32Array>;
  };
  let started = performance.now();
  const cpu = await run("cpu");
  const cpuSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const gpu = await run("webgpu");
  console.log(
    `gradient graph: cpu ${cpuSeconds.toFixed(1)} s, webgpu ${((performance.now() - started) / 1000).toFixed(1)} s (compile and one run)`,
  );
  const loss = relativeDifference(cpu.loss!, gpu.loss!);
  console.log(`loss cpu ${cpu.loss![0]} webgpu ${gpu.loss![0]} (relative ${loss.toExponential(2)})`);
  assert.ok(Number.isFinite(cpu.loss![0]!) && cpu.loss![0]! > 0);
  assert.ok(loss < TOLERANCE.loss, `loss differs by ${loss}`);
  for (const name of checked) {
    const grad = gradientName(name);
    assert.ok(
      cpu[grad]!.some((v) => v !== 0),
      `${name} has a gradient`,
    );
    const difference = relativeDifference(cpu[grad]!, gpu[grad]!);
    console.log(`gradient of ${name} (${cpu[grad]!.length} values): relative ${difference.toExponential(2)}`);
    assert.ok(difference < TOLERANCE.gradient, `${name}: ${difference}`);
  }
});

test("one training step (update inside the graph) on WebGPU: the CPU's loss, gradient norm and update directions", async () => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const step = async (executionProvider: "cpu" | "webgpu") => {
    const session = await TrainingSession.create(
      plan,
      { params },
      { executionProvider, threads: 1, optimizer: "graph" },
    );
    const result = await session.run(data, LEARNING_RATE);
    const state = copyState(await session.state());
    // On WebGPU the second step reads the first one's state where it left it, on the GPU.
    const second = await session.run(data, LEARNING_RATE);
    const secondState = copyState(await session.state());
    await session.release();
    return { result, state, second, secondState };
  };
  let started = performance.now();
  const cpu = await step("cpu");
  const cpuSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const gpu = await step("webgpu");
  console.log(
    `step graph: cpu ${cpuSeconds.toFixed(1)} s, webgpu ${((performance.now() - started) / 1000).toFixed(1)} s (compile and one step)`,
  );
  assert.ok(relativeDifference([cpu.result.loss], [gpu.result.loss]) < TOLERANCE.loss);
  assert.ok(relativeDifference([cpu.result.gradNorm], [gpu.result.gradNorm]) < TOLERANCE.gradient);
  // AdamW's first step moves each value by about the learning rate times the sign of its gradient,
  // so values with a near-zero gradient may go either way on two devices: what must agree is the
  // direction of nearly every update, and the size of every update within the learning rate.
  let agree = 0;
  let total = 0;
  let worst = 0;
  for (const name of names) {
    const before = params.get(name)!;
    const [a, b] = [cpu.state.params.get(name)!, gpu.state.params.get(name)!];
    for (let i = 0; i < a.length; i++) {
      const [da, db] = [a[i]! - before[i]!, b[i]! - before[i]!];
      if (da !== 0) total++;
      if (da !== 0 && Math.sign(da) === Math.sign(db)) agree++;
      worst = Math.max(worst, Math.abs(da - db));
    }
  }
  const agreement = agree / total;
  console.log(
    `step: loss ${cpu.result.loss} / ${gpu.result.loss}, gradient norm ${cpu.result.gradNorm} / ${gpu.result.gradNorm}, ` +
      `updates in the same direction ${(100 * agreement).toFixed(3)}% of ${total}, largest difference ${worst.toExponential(2)}`,
  );
  // Most of the token embedding's rows (tokens not in the captions) get no gradient and stay put.
  assert.ok(total > 500_000, `the step moved ${total} values`);
  assert.ok(agreement > TOLERANCE.sameDirection, `${agreement}`);
  assert.ok(worst <= 2 * LEARNING_RATE * 1.01, `${worst}`);

  // The state kept on the GPU between steps is the state read back: a new WebGPU session given the
  // first step's state from the host takes the second step to the same bits.
  const fresh = await TrainingSession.create(
    plan,
    { ...gpu.state },
    { executionProvider: "webgpu", threads: 1, optimizer: "graph" },
  );
  const second = await fresh.run(data, LEARNING_RATE);
  const fromHost = await fresh.state();
  assert.equal(second.loss, gpu.second.loss);
  for (const key of ["params", "adamM", "adamV", "ema"] as const) {
    for (const [name, value] of gpu.secondState[key]!) {
      assert.deepEqual(fromHost[key]!.get(name), value, `${key} ${name} after the second step`);
    }
  }
  await fresh.release();
  assert.ok(relativeDifference([cpu.second.loss], [gpu.second.loss]) < 1e-3, "the second step's loss");
});

/** A copy of a training state's maps (the session's views change at the next step). */
function copyState(state: TrainingState): TrainingState {
  const copy = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, v.slice()]));
  return {
    ...state,
    params: copy(state.params),
    adamM: copy(state.adamM),
    adamV: copy(state.adamV),
    ema: state.ema && copy(state.ema),
  };
}
