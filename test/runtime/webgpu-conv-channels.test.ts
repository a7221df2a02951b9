// The WebGPU conv workaround (src/runtime/webgpu-conv-channels.ts): convs of 6, 9 and 18 input
// channels (onnxruntime 1.30's WebGPU Conv got these wrong on SwiftShader) give the CPU's values on
// WebGPU, forward and backward; the padded graph is the same function on the CPU.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph } from "../../packages/glide-ts/src/runtime/session.ts";
import { padConvChannels } from "../../packages/glide-ts/src/runtime/webgpu-conv-channels.ts";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";

function values(seed: number, n: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  });
}

/** A 3×3 conv of `channels` inputs, its output weighted into a scalar, and the gradients of x and w. */
function convCase(channels: number) {
  const feeds = { x: values(channels, 2 * channels * 16 * 16), w: values(channels + 1, 16 * channels * 9) };
  const x = g.param("x", [2, channels, 16, 16], feeds.x);
  const w = g.param("w", [16, channels, 3, 3], feeds.w);
  const y = g.conv2d(x, w, null, { padding: 1 });
  const loss = g.sum(g.mul(y, g.constant(values(7, g.numel(y.shape)), y.shape)));
  const [dx, dw] = g.gradients(loss, [x, w]);
  return { outputs: { y, dx: dx!, dw: dw! }, feeds };
}

async function run(outputs: Record<string, g.Tensor>, feeds: Record<string, Float32Array>, provider: "cpu" | "webgpu") {
  const graph = await CompiledGraph.compile(outputs, { executionProvider: provider, threads: 1, params: "inputs" });
  const out = (await graph.run(feeds)) as Record<string, Float32Array>;
  await graph.release();
  return out;
}

function relativeDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return worst / scale;
}

test("padding a conv's input channels to a multiple of 4 changes nothing on the CPU", async () => {
  const { outputs, feeds } = convCase(6);
  const padded = padConvChannels(outputs);
  assert.notEqual(padded.y, outputs.y, "the conv was rewritten");
  const plain = await run(outputs, feeds, "cpu");
  const rewritten = await run(padded, feeds, "cpu");
  for (const name of ["y", "dx", "dw"]) assert.ok(relativeDifference(plain[name]!, rewritten[name]!) < 1e-6, name);
  const four = convCase(8).outputs;
  assert.equal(padConvChannels(four).y, four.y, "8 channels are left alone");
});

test("convs of 6, 9 and 18 input channels on WebGPU: the CPU's values and gradients", async () => {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  for (const channels of [6, 9, 18]) {
    const { outputs, feeds } = convCase(channels);
    const cpu = await run(outputs, feeds, "cpu");
    const gpu = await run(outputs, feeds, "webgpu");
    for (const name of ["y", "dx", "dw"]) {
      const difference = relativeDifference(cpu[name]!, gpu[name]!);
      assert.ok(difference < 1e-5, `${channels} channels, ${name}: ${difference}`);
    }
  }
});
