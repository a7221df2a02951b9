import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { Conv2d, Linear, ParamStore, seededInitializer } from "../../packages/glide-ts/src/nn/index.ts";

const paramValue = (t: g.Tensor) => g.paramAttrs(t).value;

test("scopes build the reference's dotted keys, in declaration order", () => {
  const store = new ParamStore();
  const root = store.root();
  new Conv2d(root.child("input_blocks", 1, 0, "in_layers", 2), 4, 8, 3);
  new Linear(root.child("time_embed", 0), 4, 16);
  assert.deepEqual(
    [...store.shapes()],
    [
      ["input_blocks.1.0.in_layers.2.weight", [8, 4, 3, 3]],
      ["input_blocks.1.0.in_layers.2.bias", [8]],
      ["time_embed.0.weight", [16, 4]],
      ["time_embed.0.bias", [16]],
    ],
  );
  assert.equal(store.count(), 8 * 4 * 9 + 8 + 64 + 16);
  assert.deepEqual(store.unset().length, 4, "no values without a state dict or an init");
});

test("declaring a name twice gives the same tensor; another shape is an error", () => {
  const store = new ParamStore();
  const a = store.root().param("w", [2, 3], { kind: "zeros" });
  assert.equal(store.root().param("w", [2, 3], { kind: "zeros" }), a);
  assert.throws(() => store.root().param("w", [3, 2], { kind: "zeros" }), /'w' declared twice/);
});

test("bound values are used as is; wrong shapes and unused keys are reported", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const values = new Map([
    ["layer.weight", { shape: [3, 2], data }],
    ["layer.bias", { shape: [3], data: new Float32Array(3) }],
    ["extra", { shape: [1], data: new Float32Array(1) }],
  ]);
  const store = new ParamStore({ values });
  const lin = new Linear(store.root().child("layer"), 2, 3);
  assert.equal(paramValue(lin.weight), data);
  assert.deepEqual(store.unused(), ["extra"]);
  assert.deepEqual(store.unset(), []);
  assert.throws(
    () => new Linear(new ParamStore({ values }).root().child("layer"), 3, 2),
    /expects \[2, 3\], the state dict holds \[3, 2\]/,
  );
});

test("the seeded initializer follows PyTorch's defaults and is deterministic per name", () => {
  const make = (seed: number) => {
    const store = new ParamStore({ init: seed });
    const conv = new Conv2d(store.root().child("c"), 4, 8, 3);
    const zero = new Conv2d(store.root().child("z"), 4, 8, 3, { zeroInit: true });
    return { conv, zero };
  };
  const a = make(7);
  const w = paramValue(a.conv.weight)!;
  const bound = 1 / Math.sqrt(4 * 9);
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w) > 0.8 * bound && Math.min(...w) < -0.8 * bound, "spread over U(±1/√fan_in)");
  assert.ok(paramValue(a.zero.weight)!.every((v) => v === 0));
  assert.deepEqual(paramValue(make(7).conv.weight), w, "same seed, same values");
  assert.notDeepEqual(paramValue(make(8).conv.weight), w, "another seed, other values");
  // A parameter's value depends on its name, not on what was declared before it.
  const alone = seededInitializer(7)("c.weight", [8, 4, 3, 3], { kind: "uniform", bound });
  assert.deepEqual(alone, w);
  assert.deepEqual([...seededInitializer(1)("n", [3], { kind: "ones" })], [1, 1, 1]);
});
