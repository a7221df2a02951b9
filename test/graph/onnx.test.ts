// The ONNX writer: models with external initializers (from memory or from weight files) and with
// parameters as inputs load and run in onnxruntime with exactly the values they were given.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { nodePlatform } from "../../packages/glide-ts/src/platform/node.ts";
import { CompiledGraph } from "../../packages/glide-ts/src/runtime/session.ts";
import { randn, runGraph } from "./helpers.ts";

describe("ONNX export", () => {
  test("initializers above the external threshold are passed as external data and round-trip exactly", async () => {
    const big = randn(5000, 1); // 20 000 bytes, over the 4096-byte default threshold
    const small = randn(8, 2);
    const indices = BigInt64Array.from({ length: 700 }, (_, i) => BigInt((i * 7) % 50)); // 5 600 bytes
    const w = g.param("big.weight", [50, 100], big);
    const s = g.param("small.weight", [8], small);
    const x = g.input("x", [8]);
    const outputs = {
      w,
      s,
      rows: g.gather(w, g.constant(indices, [700])),
      y: g.add(x, s),
      bigConstant: g.mul(g.constant(big, [5000]), 1),
    };
    const model = g.exportModel(outputs);
    const external = model.externalData.map((blob) => blob.data.byteLength).sort((p, q) => p - q);
    assert.deepEqual(external, [5600, 20000, 20000], "the two large float blobs and the index table are external");
    assert.ok(model.bytes.byteLength < 5600, `the protobuf holds no large blob (${model.bytes.byteLength} bytes)`);

    const session = await CompiledGraph.fromModel(model);
    try {
      const xs = randn(8, 3);
      const out = await session.run({ x: xs });
      assert.deepEqual(out.w, big);
      assert.deepEqual(out.s, small);
      assert.deepEqual(out.bigConstant, big);
      assert.deepEqual(
        out.y,
        xs.map((v, i) => v + small[i]!),
      );
      const rows = out.rows as Float32Array;
      for (let k = 0; k < 700; k++) {
        const r = Number(indices[k]!);
        assert.deepEqual(rows.subarray(k * 100, (k + 1) * 100), big.subarray(r * 100, (r + 1) * 100), `row ${k}`);
      }
    } finally {
      await session.release();
    }
  });

  test("a low external threshold moves every initializer out, and the model still runs", async () => {
    const values = randn(12, 4);
    const w = g.param("w", [3, 4], values);
    const x = g.input("x", [2, 3]);
    const y = g.mul(g.sum(g.matmul(x, w), [1], true), g.constant([2]));
    const model = g.exportModel({ y }, { externalThreshold: 1 });
    // The parameter and the user's constant; the shapes and axes ops emit stay inline for onnxruntime.
    assert.deepEqual(
      model.externalData.map((blob) => blob.data.byteLength),
      [48, 4],
    );
    const session = await CompiledGraph.fromModel(model);
    try {
      const out = await session.run({ x: Float32Array.from([1, 0, 0, 0, 1, 1]) });
      const rowSum = (r: number) => values.subarray(4 * r, 4 * r + 4).reduce((p, q) => p + q, 0);
      const expected = Float32Array.from([2 * rowSum(0), 2 * (rowSum(1) + rowSum(2))]);
      assert.ok(Math.abs((out.y as Float32Array)[0]! - expected[0]!) < 1e-5);
      assert.ok(Math.abs((out.y as Float32Array)[1]! - expected[1]!) < 1e-5);
    } finally {
      await session.release();
    }
  });

  test("stored parameters are read from their file; large constants beside them go inline", async () => {
    const big = randn(5000, 1);
    const small = randn(8, 2);
    const [storedBig, storedSmall] = await nodePlatform.weights!.write([big, small], {});
    const w = g.param("big.weight", [50, 100]);
    const s = g.param("small.weight", [8]);
    Object.assign(g.paramAttrs(w), { stored: storedBig });
    Object.assign(g.paramAttrs(s), { stored: storedSmall });
    const x = g.input("x", [8]);
    const outputs = { w, y: g.add(x, s), bigConstant: g.mul(g.constant(big, [5000]), 1) };
    const model = g.exportModel(outputs);
    assert.equal(model.externalFolder, storedBig!.folder);
    assert.deepEqual(model.externalData, [], "onnxruntime takes external data from memory or from files, not both");

    const session = await CompiledGraph.fromModel(model);
    try {
      const xs = randn(8, 3);
      const out = await session.run({ x: xs });
      assert.deepEqual(out.w, big);
      assert.deepEqual(out.bigConstant, big);
      assert.deepEqual(
        out.y,
        xs.map((v, i) => v + small[i]!),
      );
    } finally {
      await session.release();
    }
  });

  test("parameters exported as inputs are fed at run time (and need no value)", async () => {
    const w = g.param("layer.weight", [2, 3]);
    const b = g.param("layer.bias", [2], Float32Array.from([100, 200]));
    const x = g.input("x", [1, 3]);
    const y = g.linear(x, w, b);
    const [gw] = g.gradients(g.sum(y), [w]);
    const model = g.exportModel({ y, gw: gw! }, { params: "inputs" });
    assert.deepEqual(model.externalData, []);
    assert.deepEqual(
      model.inputs.map((v) => [v.name, v.dtype, [...v.shape]]),
      [
        ["x", "float32", [1, 3]],
        ["layer.weight", "float32", [2, 3]],
        ["layer.bias", "float32", [2]],
      ],
    );
    const feeds = {
      x: Float32Array.from([1, 2, 3]),
      "layer.weight": Float32Array.from([1, 0, 0, 0, 1, 1]),
      "layer.bias": Float32Array.from([0.5, -0.5]),
    };
    const out = await runGraph({ y, gw: gw! }, feeds, { params: "inputs" });
    assert.deepEqual(Array.from(out.y as Float32Array), [1.5, 4.5]);
    assert.deepEqual(Array.from(out.gw as Float32Array), [1, 2, 3, 1, 2, 3]);
    // The same graph as an inference graph takes the stored bias and needs every value.
    assert.throws(() => g.exportModel({ y }), /parameter 'layer.weight' has no value/);
  });

  test("bool and int64 values pass in and out", async () => {
    const mask = g.input("mask", [4], "bool");
    const ids = g.input("ids", [4], "int64");
    const out = await runGraph(
      { notMask: g.equal(g.cast(mask, "float32"), 0), ids2: g.cast(g.cast(ids, "float32"), "int64") },
      { mask: Uint8Array.from([1, 0, 0, 1]), ids: BigInt64Array.from([3n, -1n, 0n, 123456n]) },
    );
    assert.deepEqual(Array.from(out.notMask as Uint8Array), [0, 1, 1, 0]);
    assert.deepEqual(Array.from(out.ids2 as BigInt64Array), [3n, -1n, 0n, 123456n]);
  });

  test("an output that is one node on an input gets a node name of its own", async () => {
    // The output Identity was once named like the node before it ("two nodes with same node name").
    const a = g.input("a", [3]);
    const session = await CompiledGraph.compile({ copy: g.stopGradient(a) }, { threads: 1 });
    const out = await session.run({ a: Float32Array.from([1, -0, 3]) });
    assert.deepEqual(out.copy, Float32Array.from([1, -0, 3]));
    await session.release();
  });

  test("one session runs repeatedly with different feeds", async () => {
    const x = g.input("x", [3]);
    const session = await CompiledGraph.compile({ y: g.mul(x, 2) });
    try {
      for (const k of [1, 2, 3]) {
        const out = await session.run({ x: Float32Array.from([k, -k, 0]) });
        assert.deepEqual(Array.from(out.y as Float32Array), [2 * k, -2 * k, 0]);
      }
    } finally {
      await session.release();
    }
  });
});
