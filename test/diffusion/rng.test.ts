// The seeded generator: reference vectors of xoshiro128** and SplitMix64, reproducibility, exact
// resume from a saved state, and the distributions.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";

test("xoshiro128** output matches the reference algorithm (state 1, 2, 3, 4)", () => {
  const rng = new Rng(0);
  rng.setState({ s: [1, 2, 3, 4], spareNormal: null });
  // From the authors' C code (xoshiro128starstar.c) run from the same state.
  assert.deepEqual(
    Array.from({ length: 6 }, () => rng.nextUint32()),
    [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
  );
  for (let i = 0; i < 1000; i++) rng.nextUint32();
  assert.equal(rng.nextUint32(), 1590764842);
});

test("a seed is expanded by SplitMix64 (seed 42 → 13679457532755275413, 2949826092126892291)", () => {
  const words = (x: bigint) => [Number(x & 0xffffffffn), Number(x >> 32n)];
  assert.deepEqual(new Rng(42).getState().s, [...words(13679457532755275413n), ...words(2949826092126892291n)]);
  assert.deepEqual(new Rng(42n).getState(), new Rng(42).getState());
  assert.throws(() => new Rng(1.5), /integer/);
});

test("the same seed gives the same stream bit for bit; another seed another stream", () => {
  const draw = (rng: Rng) => [rng.uniform(), rng.normal(), rng.int(1000), ...rng.normalArray(5)];
  assert.deepEqual(draw(new Rng(7)), draw(new Rng(7)));
  assert.notDeepEqual(draw(new Rng(7)), draw(new Rng(8)));
});

test("getState / setState resume exactly, also between the two values of a Box–Muller pair", () => {
  const rng = new Rng(2024);
  rng.normal(); // leaves the pair's second value cached
  const saved = JSON.parse(JSON.stringify(rng.getState()));
  assert.notEqual(saved.spareNormal, null);
  const ahead = [rng.normal(), rng.normal(), rng.uniform(), rng.int(10)];
  const resumed = new Rng(0);
  resumed.setState(saved);
  assert.deepEqual([resumed.normal(), resumed.normal(), resumed.uniform(), resumed.int(10)], ahead);
  const copy = rng.clone();
  assert.deepEqual(copy.normalArray(4), rng.normalArray(4));
  assert.throws(() => resumed.setState({ s: [0, 0, 0, 0], spareNormal: null }), /all-zero/);
  assert.throws(() => resumed.setState({ s: [1, 2, 3, 2 ** 32], spareNormal: null }), /32-bit/);
});

test("fillNormal is the same stream as repeated normal()", () => {
  const a = new Rng(3).fillNormal(new Float32Array(7));
  const b = new Rng(3);
  assert.deepEqual(
    [...a],
    Array.from({ length: 7 }, () => Math.fround(b.normal())),
  );
});

test("distributions: uniform in [0, 1), int in [0, n) and unbiased, normal N(0, 1)", () => {
  const rng = new Rng(11);
  const n = 200_000;
  let min = 1;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    min = Math.min(min, u);
    max = Math.max(max, u);
    sum += u;
  }
  assert.ok(min >= 0 && max < 1);
  assert.ok(Math.abs(sum / n - 0.5) < 0.005); // SE 0.00065

  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `int(7) counts ${counts}`); // SE ≈ 93
  assert.equal(rng.int(1), 0);
  assert.throws(() => rng.int(0), /integer n/);

  const z = rng.normalArray(n);
  let m = 0;
  for (const v of z) m += v;
  m /= n;
  let v2 = 0;
  let tail = 0;
  for (const v of z) {
    v2 += (v - m) ** 2;
    if (Math.abs(v) > 1.959964) tail++;
  }
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`); // SE 0.0022
  assert.ok(Math.abs(v2 / n - 1) < 0.015, `variance ${v2 / n}`); // SE 0.0032
  assert.ok(Math.abs(tail / n - 0.05) < 0.003, `two-sided 5% tail ${tail / n}`); // SE 0.0005
});
