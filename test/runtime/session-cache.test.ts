import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph, SessionCache } from "../../packages/glide-ts/src/runtime/session.ts";

test("SessionCache builds one session per key and reuses it; a failed build is retried", async () => {
  const builds: number[] = [];
  const cache = new SessionCache<{ batch: number }>(async ({ batch }) => {
    builds.push(batch);
    if (batch < 1) throw new Error(`cannot build batch ${batch}`);
    const x = g.input("x", [batch, 2]);
    return CompiledGraph.compile({ y: g.sum(x, 1) }, { threads: 1 });
  });
  const [a, b] = await Promise.all([cache.get({ batch: 2 }), cache.get({ batch: 2 })]);
  assert.equal(a, b, "concurrent requests share one build");
  const c = await cache.get({ batch: 3 });
  assert.notEqual(a, c, "another shape, another session");
  assert.deepEqual(builds, [2, 3]);
  const out = await c.run({ x: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  assert.deepEqual(Array.from(out.y as Float32Array), [3, 7, 11]);
  await assert.rejects(cache.get({ batch: 0 }), /cannot build batch 0/);
  await assert.rejects(cache.get({ batch: 0 }), /cannot build batch 0/);
  assert.deepEqual(builds, [2, 3, 0, 0], "a failed build is not cached");
  await cache.clear();
  await cache.get({ batch: 2 });
  assert.deepEqual(builds, [2, 3, 0, 0, 2], "cleared sessions are built again");
});
