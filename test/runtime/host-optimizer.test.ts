import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveAdamW } from "../../packages/glide-ts/src/train/adamw.ts";
import { applyOptimizerStep, type ParamBuffers } from "../../packages/glide-ts/src/train/host-optimizer.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

const ROW = 64;
const ROWS = 40;

/** A token-embedding-like parameter (40 rows of 64) and a small dense one whose last block is partial. */
function buffers(rng: Rng): ParamBuffers[] {
  return [ROWS * ROW, 100].map((n) => {
    const param = Float32Array.from(rng.normalArray(n));
    return { param, m: new Float32Array(n), v: new Float32Array(n), ema: param.slice(), grad: new Float32Array(n) };
  });
}

function copy(set: ParamBuffers[]): ParamBuffers[] {
  return set.map((b) => ({
    param: b.param.slice(),
    m: b.m.slice(),
    v: b.v.slice(),
    ema: b.ema!.slice(),
    grad: b.grad.slice(),
  }));
}

/** Every block flagged live: the update visits every value, the dense reference. */
function dense(set: ParamBuffers[]): ParamBuffers[] {
  for (const b of set) {
    const blocks = Math.ceil(b.param.length / 64);
    b.live = { flags: new Uint8Array(blocks).fill(1), count: blocks };
  }
  return set;
}

/** Step k's gradients: rows k and k + 3 of the embedding (the rest exactly zero), all of the dense one. */
function setGradients(set: ParamBuffers[], k: number, rng: Rng): void {
  const [embedding, other] = set;
  embedding!.grad.fill(0);
  for (const row of [k, k + 3]) embedding!.grad.set(rng.normalArray(ROW), row * ROW);
  other!.grad.set(rng.normalArray(other!.grad.length));
}

const liveBlocks = (b: ParamBuffers): number | undefined => b.live?.count;

function assertSame(a: ParamBuffers[], b: ParamBuffers[]): void {
  for (const [i, x] of a.entries()) {
    const y = b[i]!;
    for (const key of ["param", "m", "v", "ema"] as const) {
      assert.deepEqual(x[key], y[key], `buffer ${i} ${key}`);
    }
  }
}

for (const weightDecay of [0, 0.05]) {
  test(`the host update skips still values bit for bit (weight decay ${weightDecay})`, () => {
    const options = resolveAdamW({ clipGradNorm: 1, emaRate: 0.999, emaWarmup: true, weightDecay });
    const skipping = buffers(new Rng(1));
    // A row touched before (as after a resume): its moment is not zero, so it moves without a gradient.
    skipping[0]!.m.fill(0.01, 30 * ROW, 31 * ROW);
    skipping[0]!.v.fill(1e-4, 30 * ROW, 31 * ROW);
    const reference = dense(copy(skipping));
    const before = skipping[0]!.param.slice();
    const gradients = new Rng(2);
    for (let k = 0; k < 6; k++) {
      setGradients(skipping, k, gradients);
      for (const [i, b] of reference.entries()) b.grad.set(skipping[i]!.grad);
      const normSkipping = applyOptimizerStep(skipping, options, 1e-2, k + 1);
      const normReference = applyOptimizerStep(reference, options, 1e-2, k + 1);
      assert.equal(normSkipping, normReference, `step ${k + 1} gradient norm`);
      assertSame(skipping, reference);
    }
    const embedding = skipping[0]!;
    const untouched = 20 * ROW;
    const moved = (row: number) => embedding.param[row * ROW] !== before[row * ROW];
    assert.ok(moved(0) && moved(8) && moved(30), "rows with a gradient or a moment move");
    if (weightDecay === 0) {
      assert.equal(embedding.param[untouched], before[untouched], "an untouched row stays");
      // Rows 0–8 got gradients, row 30 had moments: 10 of the 40 rows, one block each.
      assert.equal(embedding.live?.count, 10);
    } else {
      assert.ok(moved(20), "weight decay moves every row");
      assert.equal(embedding.live, undefined, "nothing is skipped under weight decay");
    }
  });
}

test("the host update visits a still block again once its state is reset", () => {
  const options = resolveAdamW({ emaRate: 0.99 });
  const set = buffers(new Rng(3));
  set[0]!.grad[0] = 1;
  applyOptimizerStep(set, options, 1e-2, 1);
  assert.equal(liveBlocks(set[0]!), 1);
  // As a loaded state would: row 5 gets moments, and the record is dropped.
  set[0]!.m.fill(0.5, 5 * ROW, 6 * ROW);
  set[0]!.v.fill(0.25, 5 * ROW, 6 * ROW);
  set[0]!.live = undefined;
  const before = set[0]!.param[5 * ROW]!;
  set[0]!.grad.fill(0);
  applyOptimizerStep(set, options, 1e-2, 2);
  assert.notEqual(set[0]!.param[5 * ROW], before);
  assert.equal(liveBlocks(set[0]!), 2);
});
