// Mistakes in building or running a graph give one clear error naming the op (or input) and what is wrong.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { GraphError } from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph, type HostArray, RuntimeError } from "../../packages/glide-ts/src/runtime/session.ts";

/** Asserts that `fn` throws an error of `kind` whose message contains every fragment. */
function throwsWith(kind: typeof GraphError | typeof RuntimeError, fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof kind, `expected a ${kind.name}, got ${String(error)}`);
    for (const f of fragments) assert.ok(error.message.includes(f), `'${error.message}' does not mention '${f}'`);
    return true;
  });
}

const x = (name: string, shape: number[], dtype?: string) => g.input(name, shape, dtype);

describe("building a graph with wrong shapes raises a GraphError naming the op and the shapes", () => {
  const cases: [string, () => unknown, ...string[]][] = [
    ["matmul of mismatched inner sizes", () => g.matmul(x("a", [2, 3]), x("b", [4, 5])), "matmul", "[2, 3]", "[4, 5]"],
    [
      "matmul of mismatched batches",
      () => g.matmul(x("a", [2, 3, 4]), x("b", [3, 4, 5])),
      "matmul",
      "[2, 3, 4]",
      "[3, 4, 5]",
    ],
    ["matmul of a vector", () => g.matmul(x("a", [3]), x("b", [3, 5])), "matmul", "[3]", "[3, 5]"],
    [
      "linear with the wrong weight",
      () => g.linear(x("a", [2, 3]), x("w", [4, 5]), null),
      "linear",
      "[2, 3]",
      "[4, 5]",
    ],
    [
      "conv2d channel mismatch",
      () => g.conv2d(x("x", [1, 3, 8, 8]), x("w", [4, 2, 3, 3]), null),
      "conv2d",
      "[1, 3, 8, 8]",
      "[4, 2, 3, 3]",
      "3 channels",
    ],
    ["conv2d of a 3-D input", () => g.conv2d(x("x", [3, 8, 8]), x("w", [4, 3, 3, 3]), null), "conv2d", "[3, 8, 8]"],
    [
      "conv2d with a wrong bias",
      () => g.conv2d(x("x", [1, 3, 8, 8]), x("w", [4, 3, 3, 3]), x("b", [3])),
      "conv2d",
      "bias [3]",
      "[4]",
    ],
    [
      "conv2d kernel larger than the input",
      () => g.conv2d(x("x", [1, 3, 2, 2]), x("w", [4, 3, 3, 3]), null),
      "conv2d",
      "[1, 3, 2, 2]",
    ],
    ["add of shapes that do not broadcast", () => g.add(x("a", [2, 3]), x("b", [4])), "add", "[2, 3]", "[4]"],
    ["mul of an int64 tensor", () => g.mul(x("a", [2], "int64"), 2), "mul", "int64"],
    ["reshape to the wrong size", () => g.reshape(x("a", [2, 3]), [4, 2]), "reshape", "[2, 3]", "[4, 2]"],
    ["reshape with two -1", () => g.reshape(x("a", [2, 3]), [-1, -1]), "reshape", "[-1, -1]"],
    ["transpose with a bad perm", () => g.transpose(x("a", [2, 3]), [0, 0]), "transpose", "[0, 0]", "[2, 3]"],
    ["concat of mismatched shapes", () => g.concat([x("a", [2, 3]), x("b", [3, 3])], 1), "concat", "[2, 3]", "[3, 3]"],
    ["concat on a missing axis", () => g.concat([x("a", [2, 3]), x("b", [2, 3])], 2), "concat", "axis 2"],
    ["slice out of range", () => g.slice(x("a", [2, 3]), 1, 1, 5), "slice", "1..5", "[2, 3]"],
    ["split sizes that do not add up", () => g.split(x("a", [2, 3]), 1, [1, 1]), "split", "[1, 1]", "[2, 3]"],
    ["sum over a missing axis", () => g.sum(x("a", [2, 3]), 2), "sum", "axis 2", "rank 2"],
    ["expand to an incompatible shape", () => g.expand(x("a", [3]), [2, 4]), "expand", "[3]", "[2, 4]"],
    [
      "groupNorm with channels not divisible into groups",
      () => g.groupNorm(x("x", [2, 48, 4, 4]), x("w", [48]), x("b", [48])),
      "groupNorm",
      "[2, 48, 4, 4]",
      "32 groups",
    ],
    [
      "groupNorm with a wrong weight",
      () => g.groupNorm(x("x", [2, 64, 4, 4]), x("w", [32]), x("b", [64])),
      "groupNorm",
      "[64]",
      "[2, 64, 4, 4]",
    ],
    [
      "layerNorm with a wrong weight",
      () => g.layerNorm(x("x", [2, 8]), x("w", [4]), x("b", [8])),
      "layerNorm",
      "[4]",
      "[2, 8]",
    ],
    ["softmax over a leading axis", () => g.softmax(x("x", [2, 8]), 0), "softmax", "[2, 8]"],
    ["avgPool2x2 of an odd size", () => g.avgPool2x2(x("x", [1, 1, 3, 4])), "avgPool2x2", "3×4"],
    ["avgPool2x2 of a 3-D tensor", () => g.avgPool2x2(x("x", [1, 3, 4])), "avgPool2x2", "[1, 3, 4]"],
    ["upsampleNearest2x of a 2-D tensor", () => g.upsampleNearest2x(x("x", [3, 4])), "upsampleNearest2x", "[3, 4]"],
    ["resizeBilinear to an empty size", () => g.resizeBilinear(x("x", [1, 1, 3, 4]), 0, 2), "resizeBilinear", "0×2"],
    ["gather with float indices", () => g.gather(x("t", [4, 3]), x("i", [2])), "gather", "int64", "float32"],
    ["where with a float condition", () => g.where(x("c", [2]), 1, 2), "where", "bool", "float32"],
    [
      "where with branches that do not broadcast",
      () => g.where(x("c", [3], "bool"), x("a", [2]), 2),
      "where",
      "[3]",
      "[2]",
    ],
    ["clamp with min above max", () => g.clamp(x("x", [2]), 1, 0), "clamp", "min 1", "max 0"],
    ["dropout with p = 1", () => g.dropout(x("x", [2]), 1, x("n", [2])), "dropout", "probability 1"],
    ["dropout with misshapen noise", () => g.dropout(x("x", [2]), 0.5, x("n", [3])), "dropout", "[3]", "[2]"],
    ["comparing int64 with float32", () => g.less(x("x", [2], "int64"), 1), "less", "int64", "float32"],
    ["padding by a negative amount", () => g.padAxis(x("x", [2]), 0, -1, 0), "pad", "negative"],
    ["a constant that does not fill its shape", () => g.constant([1, 2, 3], [2, 2]), "constant", "[2, 2]"],
    [
      "a parameter value of the wrong size",
      () => g.param("w", [2, 3], new Float32Array(5)),
      "param 'w'",
      "[2, 3]",
      "5",
    ],
    ["an input with a negative dimension", () => x("x", [2, -1]), "input 'x'", "[2, -1]"],
    ["an input with a fractional dimension", () => x("x", [2.5]), "input 'x'", "[2.5]"],
    ["gradients of a non-scalar loss", () => g.gradients(x("y", [2]), []), "gradients", "scalar", "[2]"],
  ];
  for (const [name, fn, ...fragments] of cases) test(name, () => throwsWith(GraphError, fn, ...fragments));

  test("gradients through a dilated conv2d are refused, not wrong", () => {
    const input = x("x", [1, 1, 7, 7]);
    const loss = g.sum(g.conv2d(input, x("w", [1, 1, 3, 3]), null, { dilation: 2 }));
    throwsWith(GraphError, () => g.gradients(loss, [input]), "conv2d", "dilation");
  });

  test("an unknown dtype is refused, naming the input and the dtypes there are", () => {
    throwsWith(GraphError, () => g.input("x", [2], "float128"), "input 'x'", "float128", "float32, int64, bool");
  });
});

describe("exporting a graph that cannot be named or filled raises a GraphError", () => {
  test("a parameter without a value in an inference graph", () => {
    throwsWith(GraphError, () => g.exportModel({ y: g.add(g.param("w", [2]), 1) }), "parameter 'w'", "no value");
  });
  test("two inputs with the same name", () => {
    throwsWith(GraphError, () => g.exportModel({ y: g.add(x("x", [2]), x("x", [2])) }), "'x'");
  });
  test("an output named like an input", () => {
    throwsWith(GraphError, () => g.exportModel({ x: g.add(x("x", [2]), 1) }), "'x'");
  });
});

describe("running with wrong feeds raises a RuntimeError naming the input", () => {
  let session: CompiledGraph;
  const ids = g.input("ids", [3], "int64");
  const a = g.input("a", [2, 3]);
  const y = g.add(a, g.cast(ids, "float32"));
  const good = (): Record<string, HostArray> => ({ a: new Float32Array(6), ids: new BigInt64Array(3) });

  before(async () => {
    session = await CompiledGraph.compile({ y });
  });
  after(() => session.release());

  const rejects = async (feeds: Record<string, HostArray>, ...fragments: string[]) => {
    await assert.rejects(session.run(feeds), (error: unknown) => {
      assert.ok(error instanceof RuntimeError, `expected a RuntimeError, got ${String(error)}`);
      for (const f of fragments) assert.ok(error.message.includes(f), `'${error.message}' does not mention '${f}'`);
      return true;
    });
  };

  test("the right feeds run", async () => {
    const out = await session.run({
      a: Float32Array.from([1, 2, 3, 4, 5, 6]),
      ids: BigInt64Array.from([10n, 20n, 30n]),
    });
    assert.deepEqual(Array.from(out.y as Float32Array), [11, 22, 33, 14, 25, 36]);
  });
  test("a missing feed", async () => {
    const { ids } = good();
    await rejects({ ids }, "missing feed", "'a'", "[2, 3]");
  });
  test("a feed of the wrong length", async () => {
    await rejects({ ...good(), a: new Float32Array(5) }, "'a'", "5 elements", "expected 6");
  });
  test("a feed of the wrong type", async () => {
    await rejects({ ...good(), ids: new Float32Array(3) }, "'ids'", "int64", "Float32Array");
  });
  test("an unknown feed name", async () => {
    await rejects({ ...good(), b: new Float32Array(6) }, "unknown feed 'b'", "a, ids");
  });
  test("an output buffer of the wrong size", async () => {
    await assert.rejects(session.run(good(), { y: new Float32Array(4) }), /output buffer 'y'.*4 elements, expected 6/);
  });
  test("an unknown output buffer", async () => {
    await assert.rejects(session.run(good(), { z: new Float32Array(6) }), /unknown output 'z'/);
  });
  test("a preallocated output buffer is filled and returned", async () => {
    const into = new Float32Array(6);
    const out = await session.run(
      { a: new Float32Array(6).fill(1), ids: BigInt64Array.from([1n, 2n, 3n]) },
      { y: into },
    );
    assert.equal(out.y, into);
    assert.deepEqual(Array.from(into), [2, 3, 4, 2, 3, 4]);
  });
  test("a graph that takes no inputs says so", async () => {
    const constantOnly = await CompiledGraph.compile({ c: g.constant([1, 2]) });
    try {
      await assert.rejects(constantOnly.run({ a: new Float32Array(6) }), /unknown feed 'a'; the graph takes no inputs/);
      assert.deepEqual(Array.from((await constantOnly.run({})).c as Float32Array), [1, 2]);
    } finally {
      await constantOnly.release();
    }
  });
});
