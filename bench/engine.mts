// npm run bench:engine — conv speed of our graphs against a hand-made ONNX node, and a CNN training step.
import "../packages/glide-ts/src/platform/node.ts";
import * as g from "../packages/glide-ts/src/graph/index.ts";
import { writeModel } from "../packages/glide-ts/src/graph/onnx/model-proto.ts";
import { CompiledGraph, type HostArray } from "../packages/glide-ts/src/runtime/session.ts";
import { buildTrainStep, parametersOf } from "../packages/glide-ts/src/train/step-graph.ts";
import { TrainingSession } from "../packages/glide-ts/src/train/training-session.ts";

const threads = Number(process.env.THREADS ?? 0) || undefined;
// The runners alternate, so one session's spinning threads must not steal the next one's CPU.
const spinning = false;

function randomArray(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
}

/** Median milliseconds of each runner, measured in alternating rounds so load spikes hit all alike. */
async function medianMs(
  runners: Record<string, () => Promise<unknown>>,
  repeats: number,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(runners)) {
    await run();
    await run();
    times[name] = [];
  }
  for (let i = 0; i < repeats; i++) {
    for (const [name, run] of Object.entries(runners)) {
      const start = performance.now();
      await run();
      times[name]!.push(performance.now() - start);
    }
  }
  const medians: Record<string, number> = {};
  for (const [name, list] of Object.entries(times)) {
    list.sort((a, b) => a - b);
    medians[name] = list[Math.floor(list.length / 2)]!;
  }
  return medians;
}

/** The baseline: one Conv node written by hand, weight as an initializer. */
async function handMadeConv(n: number, c: number, size: number, weight: Float32Array): Promise<CompiledGraph> {
  const bytes = writeModel({
    name: "baseline",
    nodes: [
      {
        opType: "Conv",
        name: "conv",
        inputs: ["x", "w"],
        outputs: ["y"],
        attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, strides: { ints: [1, 1] } },
      },
    ],
    initializers: [
      {
        name: "w",
        dtype: "float32",
        shape: [c, c, 3, 3],
        raw: new Uint8Array(weight.buffer.slice(0)),
        byteLength: weight.byteLength,
      },
    ],
    inputs: [{ name: "x", dtype: "float32", shape: [n, c, size, size] }],
    outputs: [{ name: "y", dtype: "float32", shape: [n, c, size, size] }],
  });
  return CompiledGraph.fromModel(
    {
      bytes,
      externalData: [],
      externalFolder: null,
      inputs: [{ name: "x", dtype: "float32", shape: [n, c, size, size] }],
      outputs: [{ name: "y", dtype: "float32", shape: [n, c, size, size] }],
    },
    { threads, spinning },
  );
}

async function benchConv(c: number, size: number): Promise<void> {
  const n = 2;
  const gflop = (2 * n * c * size * size * c * 9) / 1e9;
  const weight = randomArray(c * c * 9, 0.05);
  const xData = randomArray(n * c * size * size);
  const feeds: Record<string, HostArray> = { x: xData };

  const baseline = await handMadeConv(n, c, size, weight);
  const x = g.input("x", [n, c, size, size]);
  const ours = await CompiledGraph.compile(
    { y: g.conv2d(x, g.param("w", [c, c, 3, 3], weight), null, { padding: 1 }) },
    { threads, spinning },
  );

  // Forward + backward: weight as a graph input (as in training), dY fed, dX and dW out.
  const w = g.param("w", [c, c, 3, 3]);
  const y = g.conv2d(x, w, null, { padding: 1 });
  const dy = g.input("dy", y.shape);
  const [dx, dw] = g.gradients(y, [x, w], dy);
  const backward = await CompiledGraph.compile({ y, dx: dx!, dw: dw! }, { threads, spinning, params: "inputs" });
  // The forward alone in the same form (weight fed, as in training: no prepacked weight).
  const fedForward = await CompiledGraph.compile({ y }, { threads, spinning, params: "inputs" });
  const trainFeeds = { x: xData, w: weight, dy: randomArray(xData.length) };

  const t = await medianMs(
    {
      base: () => baseline.run(feeds),
      ours: () => ours.run(feeds),
      fed: () => fedForward.run({ x: xData, w: weight }),
      both: () => backward.run(trainFeeds),
    },
    15,
  );
  const [tBase, tOurs, tFed, tBoth] = [t.base!, t.ours!, t.fed!, t.both!];
  const label = `conv3x3 ${c}ch ${size}×${size} batch ${n}`;
  const rate = (ms: number, flop: number) => `${ms.toFixed(1)} ms (${(flop / (ms / 1000)).toFixed(0)} GFLOP/s)`;
  console.log(`${label}`);
  console.log(`  baseline ONNX node : ${rate(tBase, gflop)}`);
  console.log(`  glide-ts forward   : ${rate(tOurs, gflop)}  ratio to baseline ${(tOurs / tBase).toFixed(3)}`);
  console.log(`  forward, fed weight: ${rate(tFed, gflop)}  (as in a training graph: no prepacked weight)`);
  console.log(
    `  forward+backward   : ${rate(tBoth, 3 * gflop)}  ratio to forward ${(tBoth / tOurs).toFixed(2)}, ` +
      `to the fed-weight forward ${(tBoth / tFed).toFixed(2)}`,
  );
}

async function benchTrainingStep(): Promise<void> {
  const n = 16;
  const x = g.input("images", [n, 3, 32, 32]);
  const target = g.input("target", [n, 3, 32, 32]);
  const conv = (h: g.Tensor, name: string, cin: number, cout: number) =>
    g.conv2d(h, g.param(`${name}.weight`, [cout, cin, 3, 3]), g.param(`${name}.bias`, [cout]), { padding: 1 });
  const norm = (h: g.Tensor, name: string, ch: number) =>
    g.groupNorm(h, g.param(`${name}.weight`, [ch]), g.param(`${name}.bias`, [ch]), 32);
  let h = conv(x, "in", 3, 64);
  const skip = h;
  h = g.silu(norm(conv(g.avgPool2x2(g.silu(norm(h, "n1", 64))), "down", 64, 128), "n2", 128));
  h = conv(g.upsampleNearest2x(h), "up", 128, 64);
  const out = conv(g.silu(norm(g.add(h, skip), "n3", 64)), "out", 64, 3);
  const loss = g.mean(g.pow(g.sub(out, target), 2));
  const params = parametersOf(loss);
  const values = new Map(
    params.map((p) => {
      const { name, shape } = g.paramAttrs(p);
      const isWeight = shape.length === 4;
      const value = isWeight
        ? randomArray(g.numel(shape), 0.05)
        : new Float32Array(g.numel(shape)).fill(name.startsWith("n") && name.endsWith("weight") ? 1 : 0);
      return [name, value] as const;
    }),
  );
  const plan = buildTrainStep(loss, { clipGradNorm: 1, emaRate: 0.999 });
  const session = await TrainingSession.create(plan, { params: values }, { threads, spinning });
  const data = { images: randomArray(n * 3 * 32 * 32), target: randomArray(n * 3 * 32 * 32) };
  const { step: ms } = await medianMs({ step: () => session.run(data, 1e-3) }, 20);
  const paramCount = params.reduce((s, p) => s + g.numel(p.shape), 0);
  console.log(`CNN training step (batch ${n}, 3×32×32, ${paramCount} params, AdamW + clip + EMA)`);
  console.log(
    `  ${(1000 / ms!).toFixed(1)} steps/s (${ms!.toFixed(1)} ms/step), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
}

console.log(`onnxruntime-node, threads: ${threads ?? "default"}`);
await benchConv(128, 64);
await benchConv(384, 32);
await benchTrainingStep();
