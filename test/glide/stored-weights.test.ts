// A model's weights move to a file when its first session is built (Node): the JavaScript arrays
// are let go of, every session (the first, later batch sizes, one rebuilt after a release) reads
// the file and gives exactly the outputs of sessions built from the arrays.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import type { Initializer } from "../../packages/glide-ts/src/nn/params.ts";
import { nodePlatform } from "../../packages/glide-ts/src/platform/node.ts";
import { setPlatform } from "../../packages/glide-ts/src/platform/platform.ts";
import type { CompiledGraph, HostArray } from "../../packages/glide-ts/src/runtime/session.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { fixtureConfig } from "../fixtures.ts";

/** Every parameter non-zero (no zero-initialized output layers), so every weight reaches the output. */
const init: Initializer = (name, shape) => {
  const rng = new Rng(BigInt(name.length * 7919 + shape.length));
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.1 * rng.normal());
};

function feedsFor(session: CompiledGraph): Record<string, HostArray> {
  const rng = new Rng(5n);
  const feeds: Record<string, HostArray> = {};
  for (const v of session.inputs) {
    const n = v.shape.reduce((a, b) => a * b, 1);
    feeds[v.name] =
      v.dtype === "int64"
        ? BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 31) % 500))
        : v.dtype === "bool"
          ? Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1))
          : rng.normalArray(n);
  }
  if (feeds.timesteps) (feeds.timesteps as Float32Array).fill(321);
  return feeds;
}

async function outputsOf(compiled: Promise<CompiledGraph>): Promise<Record<string, HostArray>> {
  const session = await compiled;
  const out = await session.run(feedsFor(session));
  await session.release();
  return out;
}

/** A weak reference to one parameter's array, made outside the caller's scope so that nothing else holds it. */
function watchValue(model: GlideModel): WeakRef<Float32Array> {
  return new WeakRef(g.paramAttrs(model.params.params.values().next().value!).value!);
}

test("the first session moves the weights to a file and lets go of the arrays; every session reads the file", async () => {
  const config = fixtureConfig("text2im");
  const inMemory = new GlideModel(config, { init, weightsInMemory: true });
  const stored = new GlideModel(config, { init });
  const released = watchValue(stored);

  const expected = await outputsOf(inMemory.compileUNet(1, { threads: 1 }));
  const got = await outputsOf(stored.compileUNet(1, { threads: 1 }));
  assert.deepEqual(got, expected, "the same outputs, bit for bit");

  for (const [name, t] of stored.params.params) {
    const { value, stored: where } = g.paramAttrs(t);
    assert.equal(value, null, `${name} is no longer an array`);
    assert.ok(where && existsSync(join(where.folder, where.file)), `${name} is in a file`);
  }
  assert.ok(inMemory.params.inMemory().length > 0, "weightsInMemory keeps them");
  assert.equal(released.deref(), undefined, "the array was garbage collected");

  // Later sessions, built with no array left: another batch size, the text encoder, a rebuild.
  assert.deepEqual(
    await outputsOf(stored.compileUNet(2, { threads: 1 })),
    await outputsOf(inMemory.compileUNet(2, { threads: 1 })),
  );
  assert.deepEqual(
    await outputsOf(stored.compileTextEncoder(2, { threads: 1 })),
    await outputsOf(inMemory.compileTextEncoder(2, { threads: 1 })),
  );
  assert.deepEqual(await outputsOf(stored.compileUNet(1, { threads: 1 })), expected);
});

test("a model made from a state dict lets go of it too", async () => {
  const config = fixtureConfig("superres");
  const made = () => {
    const shapes = new GlideModel(config).params.shapes();
    const stateDict = new Map(
      [...shapes].map(([name, shape]) => [name, { shape, data: init(name, shape, { kind: "zeros" }) }]),
    );
    return { model: GlideModel.fromStateDict(config, stateDict), released: new WeakRef(stateDict) };
  };
  const { model, released } = made();
  await outputsOf(model.compileUNet(1, { threads: 1 }));
  assert.equal(model.params.inMemory().length, 0);
  assert.equal(released.deref(), undefined, "the state dict was garbage collected");
});

test("where the platform has no weight files (a browser), the weights stay in memory", async () => {
  setPlatform({ ...nodePlatform, weights: undefined });
  try {
    const model = new GlideModel(fixtureConfig("superres"), { init });
    const before = model.params.inMemory().length;
    await outputsOf(model.compileUNet(1, { threads: 1 }));
    assert.equal(model.params.inMemory().length, before);
  } finally {
    setPlatform(nodePlatform);
  }
});
