import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { buildTrainStep, parametersOf } from "../../packages/glide-ts/src/train/step-graph.ts";
import { type OptimizerPlacement, TrainingSession } from "../../packages/glide-ts/src/train/training-session.ts";

const PLACEMENTS: OptimizerPlacement[] = ["host", "graph"];

/** A small deterministic generator for test data (mulberry32 + Box–Muller). */
function normals(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from(
    { length: n },
    () => scale * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
}

function initialValues(params: g.Tensor[], seed: number): Map<string, Float32Array> {
  return new Map(
    params.map((p, i) => {
      const { name, shape } = g.paramAttrs(p);
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      const scale = shape.length === 1 ? 0 : 1 / Math.sqrt(fanIn);
      return [name, normals(seed * 1000 + i, g.numel(shape), scale)];
    }),
  );
}

async function train(
  loss: g.Tensor,
  data: Record<string, Float32Array>,
  steps: number,
  lr: number,
  options: Parameters<typeof buildTrainStep>[1] = {},
  optimizer: OptimizerPlacement = "host",
): Promise<{ losses: number[]; session: TrainingSession }> {
  const plan = buildTrainStep(loss, options);
  const params = parametersOf(loss);
  const session = await TrainingSession.create(plan, { params: initialValues(params, 7) }, { threads: 1, optimizer });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await session.run(data, lr)).loss);
  return { losses, session };
}

function mlpTask() {
  // Regress the outputs of a fixed random teacher network.
  const batch = 64;
  const x = normals(1, batch * 4);
  const teacher = normals(2, 4 * 3);
  const target = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let acc = 0;
    for (let j = 0; j < 3; j++) {
      let h = 0;
      for (let i = 0; i < 4; i++) h += x[b * 4 + i]! * teacher[i * 3 + j]!;
      acc += Math.tanh(h);
    }
    target[b] = acc;
  }
  const xs = g.input("x", [batch, 4]);
  const ys = g.input("y", [batch, 1]);
  const hidden = g.tanh(g.linear(xs, g.param("l1.weight", [32, 4]), g.param("l1.bias", [32])));
  const pred = g.linear(hidden, g.param("l2.weight", [1, 32]), g.param("l2.bias", [1]));
  const loss = g.mean(g.pow(g.sub(pred, ys), 2));
  return { loss, data: { x, y: target } };
}

function cnnTask() {
  // Learn a 2×2 box blur of random 8×8 images with a conv / pool / upsample network.
  const n = 8;
  const images = normals(3, n * 64);
  const blurred = new Float32Array(n * 64);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++) {
        let acc = 0;
        for (const [di, dj] of [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ] as const) {
          acc += images[b * 64 + Math.min(i + di, 7) * 8 + Math.min(j + dj, 7)]!;
        }
        blurred[b * 64 + i * 8 + j] = acc / 4;
      }
  const x = g.input("images", [n, 1, 8, 8]);
  const target = g.input("target", [n, 1, 8, 8]);
  let h = g.conv2d(x, g.param("c1.weight", [8, 1, 3, 3]), g.param("c1.bias", [8]), { padding: 1 });
  h = g.silu(g.groupNorm(h, g.param("n1.weight", [8]), g.param("n1.bias", [8]), 4));
  const skip = h;
  h = g.upsampleNearest2x(g.silu(g.conv2d(g.avgPool2x2(h), g.param("c2.weight", [8, 8, 3, 3]), null, { padding: 1 })));
  const out = g.conv2d(g.add(h, skip), g.param("c3.weight", [1, 8, 3, 3]), g.param("c3.bias", [1]), { padding: 1 });
  const loss = g.mean(g.pow(g.sub(out, target), 2));
  return { loss, data: { images, target: blurred } };
}

test("a small MLP trained with the step graph: loss falls tenfold, runs repeat exactly", async () => {
  const { loss, data } = mlpTask();
  const a = await train(loss, data, 300, 1e-2);
  assert.ok(a.losses.at(-1)! < a.losses[0]! / 10, `loss ${a.losses[0]} → ${a.losses.at(-1)}`);
  const b = await train(loss, data, 300, 1e-2);
  assert.deepEqual(b.losses, a.losses);
});

for (const optimizer of PLACEMENTS) {
  test(`a small CNN trained with clipping and EMA (${optimizer} update): loss falls tenfold, runs repeat exactly`, async () => {
    const { loss, data } = cnnTask();
    const options = { clipGradNorm: 1, emaRate: 0.9, weightDecay: 1e-4 };
    const a = await train(loss, data, 200, 1e-2, options, optimizer);
    assert.ok(a.losses.at(-1)! < a.losses[0]! / 10, `loss ${a.losses[0]} → ${a.losses.at(-1)}`);
    const b = await train(loss, data, 200, 1e-2, options, optimizer);
    assert.deepEqual(b.losses, a.losses);
    const state = await a.session.state();
    assert.equal(state.step, 200);
    assert.ok(state.ema);
    // The EMA trails the parameters but stays close to them after many steps.
    const w = state.params.get("c3.weight")!;
    const ema = state.ema.get("c3.weight")!;
    assert.notDeepEqual(ema, w);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(ema[i]! - w[i]!) < 0.05);
  });
}

test("the host update and the graph update agree step for step", async () => {
  const { loss, data } = cnnTask();
  const options = { clipGradNorm: 0.5, emaRate: 0.9, weightDecay: 1e-2 };
  const host = await train(loss, data, 20, 1e-2, options, "host");
  const graph = await train(loss, data, 20, 1e-2, options, "graph");
  for (let i = 0; i < 20; i++) {
    assert.ok(Math.abs(host.losses[i]! - graph.losses[i]!) <= 1e-4 * graph.losses[i]!, `step ${i} loss`);
  }
  const [a, b] = [await host.session.state(), await graph.session.state()];
  for (const key of ["params", "adamM", "adamV", "ema"] as const) {
    for (const [name, value] of b[key]!) {
      const other = a[key]!.get(name)!;
      const scale = Math.max(...value.map(Math.abs));
      for (let i = 0; i < value.length; i++) {
        assert.ok(Math.abs(value[i]! - other[i]!) <= 1e-4 * scale, `${key} ${name}[${i}]: ${other[i]} vs ${value[i]}`);
      }
    }
  }
});

for (const optimizer of PLACEMENTS) {
  test(`one AdamW step (${optimizer} update) matches the formula, with clipping and weight decay`, async () => {
    const p = g.param("p", [3]);
    const x = g.input("x", [3]);
    const loss = g.sum(g.mul(p, x)); // gradient is x
    const plan = buildTrainStep(loss, { clipGradNorm: 1, weightDecay: 0.1, emaRate: 0.5 });
    const start = Float32Array.from([1, -2, 3]);
    const session = await TrainingSession.create(plan, { params: new Map([["p", start]]) }, { threads: 1, optimizer });
    const grad = [3, 4, 0]; // norm 5 → clipped to norm 1
    const out = await session.run({ x: Float32Array.from(grad) }, 0.01);
    assert.ok(Math.abs(out.gradNorm - 5) < 1e-5);
    const state = await session.state();
    for (let i = 0; i < 3; i++) {
      const gi = grad[i]! / 5;
      const m = 0.1 * gi;
      const v = 0.001 * gi * gi;
      const update = m / 0.1 / (Math.sqrt(v / 0.001) + 1e-8);
      const expected = start[i]! * (1 - 0.01 * 0.1) - 0.01 * update;
      assert.ok(Math.abs(state.params.get("p")![i]! - expected) < 1e-6, `p[${i}]`);
      assert.ok(Math.abs(state.adamM.get("p")![i]! - m) < 1e-7);
      assert.ok(Math.abs(state.ema!.get("p")![i]! - (0.5 * start[i]! + 0.5 * expected)) < 1e-6);
    }
  });
}

for (const optimizer of PLACEMENTS) {
  test(`gradient accumulation over micro-batches (${optimizer} update) equals one step on the whole batch`, async () => {
    const { data } = mlpTask();
    // The same MLP built at batch 64 (fused) and at batch 16 (four accumulated micro-batches).
    const build = (batch: number) => {
      const xs = g.input("x", [batch, 4]);
      const ys = g.input("y", [batch, 1]);
      const hidden = g.tanh(g.linear(xs, g.param("l1.weight", [32, 4]), g.param("l1.bias", [32])));
      const pred = g.linear(hidden, g.param("l2.weight", [1, 32]), g.param("l2.bias", [1]));
      return g.mean(g.pow(g.sub(pred, ys), 2));
    };
    const options = { clipGradNorm: 0.5, emaRate: 0.9 };
    const whole = build(64);
    const params = initialValues(parametersOf(whole), 7);
    const fused = await TrainingSession.create(buildTrainStep(whole, options), { params }, { threads: 1, optimizer });
    const micro = await TrainingSession.create(
      buildTrainStep(build(16), options),
      { params },
      { threads: 1, optimizer },
    );
    const chunks = [0, 1, 2, 3].map((k) => ({
      x: data.x.slice(k * 64, (k + 1) * 64),
      y: data.y.slice(k * 16, (k + 1) * 16),
    }));
    for (let step = 0; step < 5; step++) {
      const a = await fused.run(data, 1e-2);
      const b = await micro.runAccumulated(chunks, 1e-2);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `step ${step}: loss ${a.loss} vs ${b.loss}`);
      assert.ok(Math.abs(a.gradNorm - b.gradNorm) < 1e-4, `step ${step}: grad norm ${a.gradNorm} vs ${b.gradNorm}`);
    }
    for (const [name, value] of (await fused.state()).params) {
      const other = (await micro.state()).params.get(name)!;
      for (let i = 0; i < value.length; i++) {
        assert.ok(Math.abs(value[i]! - other[i]!) < 1e-5, `${name}[${i}]: ${value[i]} vs ${other[i]}`);
      }
    }
  });
}

for (const optimizer of PLACEMENTS) {
  test(`EMA warm-up (${optimizer} update): the average's rate at step t is min(rate, (1 + t)/(10 + t))`, async () => {
    const p = g.param("p", [2]);
    const x = g.input("x", [2]);
    const loss = g.sum(g.mul(p, x));
    const plan = buildTrainStep(loss, { emaRate: 0.999, emaWarmup: true });
    const start = Float32Array.from([1, -1]);
    const session = await TrainingSession.create(plan, { params: new Map([["p", start]]) }, { threads: 1, optimizer });
    let ema = Array.from(start);
    for (let t = 1; t <= 30; t++) {
      await session.run({ x: Float32Array.from([1, -2]) }, 0.01);
      const params = (await session.state()).params.get("p")!;
      const rate = Math.min(0.999, (1 + t) / (10 + t));
      ema = ema.map((e, i) => rate * e + (1 - rate) * params[i]!);
      const got = (await session.state()).ema!.get("p")!;
      for (let i = 0; i < 2; i++)
        assert.ok(Math.abs(got[i]! - ema[i]!) < 1e-6, `step ${t} ema[${i}]: ${got[i]} vs ${ema[i]}`);
    }
    // Without warm-up the average would still hold 97 % of the start after 30 steps; with it, ~25 %.
    const params = (await session.state()).params.get("p")!;
    const share = (ema[0]! - params[0]!) / (start[0]! - params[0]!);
    assert.ok(share < 0.5, `initial weights' share ${share}`);
  });
}
