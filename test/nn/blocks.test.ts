// The nn blocks against straightforward float64 loops written from the reference's definitions.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { inputAttrs } from "../../packages/glide-ts/src/graph/ops/leaf.ts";
import {
  AttentionBlock,
  FedDropoutNoise,
  multiheadSelfAttention,
  ParamStore,
  qkvAttention,
  ResBlock,
  timestepEmbedding,
  timestepFrequencies,
} from "../../packages/glide-ts/src/nn/index.ts";
import * as naive from "./naive.ts";

const paramValue = (t: g.Tensor) => g.paramAttrs(t).value!;
/** Params with random (not zero) values everywhere, so zero-initialized layers are exercised too. */
const randomStore = (seed: number) => {
  const rng = new naive.Rng(seed);
  return new ParamStore({
    init: (_n, shape) =>
      naive.randomArray(
        rng,
        shape.reduce((p, d) => p * d, 1),
        0.2,
      ),
  });
};

test("timestep embedding: [cos, sin] of t·exp(−ln(10⁴)·i/half), zero column for odd dims", async () => {
  const t = g.input("t", [3]);
  const ts = new Float32Array([0, 3, 999]);
  for (const dim of [8, 7]) {
    const { emb } = await naive.runGraph({ emb: timestepEmbedding(t, dim) }, { t: ts });
    const half = Math.floor(dim / 2);
    const expected: number[] = [];
    for (const step of ts) {
      const args = Array.from({ length: half }, (_, i) => step * Math.exp((-Math.log(10000) * i) / half));
      expected.push(...args.map(Math.cos), ...args.map(Math.sin), ...(dim % 2 ? [0] : []));
    }
    // float32 frequencies: t·freq at t = 999 carries an argument error of up to ~1e-4.
    assert.ok(naive.maxAbsDiff(emb!, expected) < 2e-4, `dim ${dim}`);
  }
  const freqs = timestepFrequencies(8);
  assert.equal(freqs[0], 1);
  assert.ok(Math.abs(freqs[3]! - 10000 ** -0.75) < 1e-9);
});

test("qkvAttention: per-head [q, k, v] channel layout, text keys and values prepended", async () => {
  const rng = new naive.Rng(1);
  const [n, heads, ch, len, s] = [2, 2, 3, 5, 4];
  const qkvData = naive.randomArray(rng, n * heads * 3 * ch * len);
  const kvData = naive.randomArray(rng, n * heads * 2 * ch * s);
  const qkv = g.input("qkv", [n, heads * 3 * ch, len]);
  const kv = g.input("kv", [n, heads * 2 * ch, s]);
  const { out } = await naive.runGraph({ out: qkvAttention(qkv, heads, kv) }, { qkv: qkvData, kv: kvData });

  const expected = new Float64Array(n * heads * ch * len);
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++) {
      const at = (c: number, t: number) => qkvData[((b * heads + h) * 3 * ch + c) * len + t]!;
      const enc = (c: number, j: number) => kvData[((b * heads + h) * 2 * ch + c) * s + j]!;
      // keys/values over S text positions then len image positions
      const key = (c: number, j: number) => (j < s ? enc(c, j) : at(ch + c, j - s));
      const val = (c: number, j: number) => (j < s ? enc(ch + c, j) : at(2 * ch + c, j - s));
      for (let t = 0; t < len; t++) {
        const logits = new Float64Array(s + len);
        for (let j = 0; j < s + len; j++)
          for (let c = 0; c < ch; c++) logits[j]! += (at(c, t) * key(c, j)) / Math.sqrt(ch);
        const w = naive.softmaxRows(logits, s + len);
        for (let c = 0; c < ch; c++) {
          let acc = 0;
          for (let j = 0; j < s + len; j++) acc += w[j]! * val(c, j);
          expected[((b * heads + h) * ch + c) * len + t] = acc;
        }
      }
    }
  assert.ok(naive.maxAbsDiff(out!, expected) < 1e-5);
});

test("multiheadSelfAttention: token-major per-head [q, k, v] layout, no mask", async () => {
  const rng = new naive.Rng(2);
  const [n, len, heads, ch] = [2, 4, 2, 3];
  const data = naive.randomArray(rng, n * len * heads * 3 * ch);
  const qkv = g.input("qkv", [n, len, heads * 3 * ch]);
  const { out } = await naive.runGraph({ out: multiheadSelfAttention(qkv, heads) }, { qkv: data });
  const expected = new Float64Array(n * len * heads * ch);
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++) {
      const at = (t: number, c: number) => data[(b * len + t) * heads * 3 * ch + h * 3 * ch + c]!;
      for (let t = 0; t < len; t++) {
        const logits = new Float64Array(len);
        for (let j = 0; j < len; j++)
          for (let c = 0; c < ch; c++) logits[j]! += (at(t, c) * at(j, ch + c)) / Math.sqrt(ch);
        const w = naive.softmaxRows(logits, len);
        for (let c = 0; c < ch; c++) {
          let acc = 0;
          for (let j = 0; j < len; j++) acc += w[j]! * at(j, 2 * ch + c);
          expected[(b * len + t) * heads * ch + h * ch + c] = acc;
        }
      }
    }
  assert.ok(naive.maxAbsDiff(out!, expected) < 1e-5);
});

/** The reference ResBlock.forward, in float64 loops. */
function naiveResBlock(
  block: { ssn: boolean; up: boolean; down: boolean; cin: number; cout: number; emb: number },
  p: (name: string) => Float32Array,
  x: Float32Array,
  shape: number[],
  emb: Float32Array,
): Float64Array {
  const [n, , hgt, wid] = shape as [number, number, number, number];
  let h: Float64Array = naive.silu(naive.groupNorm(x, shape, p("in_layers.0.weight"), p("in_layers.0.bias")));
  let xs: ArrayLike<number> = x;
  let hw = [hgt, wid];
  if (block.up || block.down) {
    const resample = block.up ? naive.upsampleNearest : naive.avgPool;
    h = resample(h, shape);
    xs = resample(x, shape);
    hw = block.up ? [2 * hgt, 2 * wid] : [hgt / 2, wid / 2];
  }
  const inShape = [n, block.cin, hw[0]!, hw[1]!];
  const c = block.cout;
  const conv1 = naive.conv2d(h, inShape, p("in_layers.2.weight"), p("in_layers.2.bias"), c, 3, 1, 1);
  const e = naive.linear(
    naive.silu(emb),
    n,
    p("emb_layers.1.weight"),
    p("emb_layers.1.bias"),
    block.emb,
    block.ssn ? 2 * c : c,
  );
  const outShape = conv1.shape;
  const plane = hw[0]! * hw[1]!;
  let hh: Float64Array = conv1.out;
  if (block.ssn) {
    const normed = naive.groupNorm(hh, outShape, p("out_layers.0.weight"), p("out_layers.0.bias"));
    hh = naive.silu(
      normed.map((v, i) => {
        const b = Math.floor(i / (c * plane));
        const ch = Math.floor(i / plane) % c;
        return v * (1 + e[b * 2 * c + ch]!) + e[b * 2 * c + c + ch]!;
      }),
    );
  } else {
    const added = hh.map((v, i) => v + e[Math.floor(i / (c * plane)) * c + (Math.floor(i / plane) % c)]!);
    hh = naive.silu(naive.groupNorm(added, outShape, p("out_layers.0.weight"), p("out_layers.0.bias")));
  }
  const conv2 = naive.conv2d(hh, outShape, p("out_layers.3.weight"), p("out_layers.3.bias"), c, 3, 1, 1).out;
  const skip =
    c === block.cin ? xs : naive.conv2d(xs, inShape, p("skip_connection.weight"), p("skip_connection.bias"), c, 1).out;
  return conv2.map((v, i) => v + skip[i]!);
}

test("ResBlock: scale-shift norm on and off, up, down and channel changes match the reference", async () => {
  const cases = [
    { ssn: true, up: false, down: false, cin: 32, cout: 64 },
    { ssn: false, up: false, down: false, cin: 32, cout: 32 },
    { ssn: true, up: true, down: false, cin: 32, cout: 32 },
    { ssn: false, up: false, down: true, cin: 32, cout: 32 },
  ];
  for (const [i, c] of cases.entries()) {
    const store = randomStore(10 + i);
    const block = new ResBlock(store.root().child("blk"), c.cin, {
      embChannels: 16,
      outChannels: c.cout,
      dropout: 0,
      useScaleShiftNorm: c.ssn,
      up: c.up,
      down: c.down,
    });
    const shape = [2, c.cin, 4, 4];
    const rng = new naive.Rng(100 + i);
    const xData = naive.randomArray(rng, 2 * c.cin * 16);
    const embData = naive.randomArray(rng, 2 * 16);
    const x = g.input("x", shape);
    const emb = g.input("emb", [2, 16]);
    const { out } = await naive.runGraph({ out: block.forward(x, emb) }, { x: xData, emb: embData });
    const p = (name: string) => paramValue(store.params.get(`blk.${name}`)!);
    const expected = naiveResBlock({ ...c, emb: 16 }, p, xData, shape, embData);
    assert.ok(naive.maxAbsDiff(out!, expected) < 1e-4, `case ${JSON.stringify(c)}`);
  }
});

test("ResBlock dropout takes fed noise, one input per block, and only when p > 0", async () => {
  const store = randomStore(3);
  const make = (name: string, p: number) =>
    new ResBlock(store.root().child(name), 32, { embChannels: 8, dropout: p, useScaleShiftNorm: true });
  const x = g.input("x", [1, 32, 2, 2]);
  const emb = g.input("emb", [1, 8]);
  const noise = new FedDropoutNoise();
  const a = make("a", 0.5).forward(x, emb, noise);
  make("b", 0).forward(x, emb, noise);
  assert.deepEqual(
    noise.inputs.map((t) => [inputAttrs(t).name, t.shape]),
    [["dropout_noise.a", [1, 32, 2, 2]]],
  );
  const feeds = { x: new Float32Array(128).fill(0.3), emb: new Float32Array(8).fill(0.1) };
  const keep = await naive.runGraph({ out: a }, { ...feeds, "dropout_noise.a": new Float32Array(128).fill(0.9) });
  const drop = await naive.runGraph({ out: a }, { ...feeds, "dropout_noise.a": new Float32Array(128).fill(0.1) });
  const plain = await naive.runGraph({ out: make("a", 0.5).forward(x, emb) }, feeds);
  // All dropped: only the residual path and out_layers.3's bias remain.
  const bias = paramValue(store.params.get("a.out_layers.3.bias")!);
  assert.ok(
    naive.maxAbsDiff(
      drop.out!,
      Float32Array.from({ length: 128 }, (_, i) => 0.3 + bias[i >> 2]!),
    ) < 1e-5,
  );
  assert.ok(naive.maxAbsDiff(keep.out!, plain.out!) > 1e-3, "kept units are rescaled by 1/(1−p)");
});

test("AttentionBlock: heads from num_head_channels or num_heads, encoder_kv only with text", () => {
  const store = new ParamStore();
  const a = new AttentionBlock(store.root().child("a"), 64, { numHeads: 1, numHeadChannels: 16, encoderChannels: 8 });
  const b = new AttentionBlock(store.root().child("b"), 64, {
    numHeads: 2,
    numHeadChannels: -1,
    encoderChannels: null,
  });
  assert.equal(a.heads, 4);
  assert.equal(b.heads, 2);
  assert.deepEqual(store.shapes().get("a.encoder_kv.weight"), [128, 8, 1]);
  assert.ok(!store.shapes().has("b.encoder_kv.weight"));
  assert.throws(
    () => new AttentionBlock(store.root().child("c"), 64, { numHeads: 1, numHeadChannels: 24, encoderChannels: null }),
    /not divisible by num_head_channels 24/,
  );
  const x = g.input("x", [1, 64, 2, 2]);
  assert.throws(() => a.forward(x, null), /attends to text/);
});
