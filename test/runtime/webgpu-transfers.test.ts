// What a training step costs on WebGPU beyond its kernels: every node onnxruntime leaves on the CPU
// behind a GPU result is a copy to the host and a wait for the GPU. The variadic Sum (no WebGPU
// kernel) is split into adds (src/runtime/webgpu-sums.ts), and dropout, the loss's edge bins and the
// caption's padding select by 0/1 floats, not booleans (WebGPU cannot transpose a boolean for its
// NHWC layout). So the tiny training step leaves on the CPU only what reads the host's inputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { placementOf } from "../../bench/device-placement.mts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph } from "../../packages/glide-ts/src/runtime/session.ts";
import { splitSums } from "../../packages/glide-ts/src/runtime/webgpu-sums.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";

test("a sum of n terms becomes a tree of n − 1 adds with the same values", async () => {
  const terms = [1, 2, 3, 4, 5].map((k) =>
    g.param(
      `x${k}`,
      [2, 3],
      Float32Array.from({ length: 6 }, (_, i) => k * 0.1 + i),
    ),
  );
  const outputs = { y: g.addN(terms) };
  const split = splitSums(outputs);
  const ops: string[] = [];
  const seen = new Set<number>();
  const walk = (t: g.Tensor) => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    ops.push(t.op.name);
    t.inputs.forEach(walk);
  };
  walk(split.y!);
  assert.equal(ops.filter((op) => op === "addN").length, 0, "no Sum is left");
  assert.equal(ops.filter((op) => op === "add").length, 4);
  const run = async (graph: Record<string, g.Tensor>) => {
    const compiled = await CompiledGraph.compile(graph, { threads: 1 });
    const out = (await compiled.run({})) as Record<string, Float32Array>;
    await compiled.release();
    return Array.from(out.y!);
  };
  const [summed, added] = [await run(outputs), await run(split)];
  assert.deepEqual(
    added.map((v) => Number(v.toFixed(4))),
    summed.map((v) => Number(v.toFixed(4))),
  );
  assert.deepEqual(summed.slice(0, 2), [Math.fround(1.5), Math.fround(6.5)]);
});

test("the tiny training step on WebGPU copies no GPU result to the host", () => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const placement = placementOf("tiny training step graph (batch 2)");
  assert.ok(!("error" in placement), "error" in placement ? placement.error : "");
  if ("error" in placement) return;
  assert.equal(placement.copiesToHost, 0, `copies to the host: ${placement.copiesToHost}`);
  // Left on the CPU: the int64 tokens' padding test and reshape, the int64 timesteps' cast.
  assert.deepEqual(placement.onCpu, { Cast: 1, Equal: 1, Reshape: 1 });
  assert.ok((placement.nodes.WebGpuExecutionProvider ?? 0) > 10_000);
});
