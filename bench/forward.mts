// npm run bench:forward — one U-Net forward of the released model shapes (random weights):
// `base` at batch 2 (one guided step) and `upsample` at batch 1, with effective GFLOP/s and peak memory,
// and the peak memory of the way sessions were built before (the weights kept in JavaScript beside
// onnxruntime's copy, and onnxruntime's CPU arena) for comparison.
// Each preset and way runs in its own process so that its peak RSS is its own.
import "../src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GlideModel } from "../src/glide/model.ts";
import { presetConfig } from "../src/glide/presets.ts";
import { countFlops } from "../src/nn/flops.ts";
import type { HostArray } from "../src/runtime/session.ts";

const threads = Number(process.env.THREADS ?? 0) || undefined;
const cases: Record<string, number> = { base: 2, upsample: 1 };
/** The goal for peak RSS over the weights (issue 14). */
const MEMORY_GOAL = 1.3;

function randomArray(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
}

async function measure(preset: string, batch: number, before: boolean): Promise<void> {
  const config = presetConfig(preset);
  const model = new GlideModel(config, { init: 1, weightsInMemory: before });
  const weightBytes = 4 * model.params.count();
  const graph = model.unetGraph(batch);
  const flops = countFlops(Object.values(graph.outputs)).total;
  const compileStart = performance.now();
  const unet = await model.compileUNet(batch, { threads, keepRunMemory: before });
  const compileSeconds = (performance.now() - compileStart) / 1000;
  const feeds: Record<string, HostArray> = {};
  for (const v of unet.inputs) feeds[v.name] = randomArray(v.shape.reduce((a, b) => a * b, 1));
  feeds.timesteps = Float32Array.from({ length: batch }, () => 500);
  await unet.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await unet.run(feeds);
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  const seconds = times[1]!;
  const peak = process.resourceUsage().maxRSS * 1024;
  const ratio = peak / weightBytes;
  const memory = `peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB = ${ratio.toFixed(2)}× the ${(weightBytes / 2 ** 30).toFixed(2)} GiB of weights`;
  if (before) {
    console.log(
      `  before (weights also kept in JavaScript, onnxruntime's arena): compile ${compileSeconds.toFixed(1)} s;`,
    );
    console.log(`    forward ${seconds.toFixed(2)} s; ${memory}`);
    return;
  }
  console.log(
    `${preset} (${(weightBytes / 4 / 1e6).toFixed(1)}M params), batch ${batch}, ${config.image_size}×${config.image_size}:`,
  );
  console.log(
    `  forward ${seconds.toFixed(2)} s (runs ${times.map((t) => t.toFixed(2)).join(", ")}), ${(flops / 1e9).toFixed(0)} GFLOP conv+linear → ${(flops / 1e9 / seconds).toFixed(0)} GFLOP/s`,
  );
  console.log(
    `  compile ${compileSeconds.toFixed(1)} s; ${memory} (goal ≤ ${MEMORY_GOAL}×: ${ratio <= MEMORY_GOAL ? "met" : "not met"})`,
  );
}

const [preset, batch, way] = process.argv.slice(2);
if (preset) {
  await measure(preset, Number(batch), way === "before");
} else {
  console.log(
    `onnxruntime-node, threads: ${threads ?? "default"}; reference: the original network exported to ONNX runs base at batch 2 in ~1.5 s here`,
  );
  for (const [name, n] of Object.entries(cases)) {
    for (const w of ["now", "before"]) {
      const child = spawnSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), name, String(n), w],
        { stdio: "inherit" },
      );
      if (child.status !== 0) process.exitCode = 1;
    }
  }
}
