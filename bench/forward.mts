// npm run bench:forward — one U-Net forward in fp32 and in int8, side by side in one process
// (timings interleaved): the released shapes with random weights (`base` at batch 2, one guided
// step; `upsample` at batch 1) and the shipped models (models/*.safetensors). For each: seconds,
// effective G(FL)OP/s, the int8/fp32 time ratio, int8's relative error against fp32 on inputs the
// calibration did not see, the int8 plan (calibration timesteps, how activation ranges move with t,
// layers kept fp32), and peak RSS. Each case runs in its own process so its peak RSS is its own.
// Options: --fp32-only (no int8), a case name (base, upsample, base32, upsample128) to run just it.
// THREADS=n (onnxruntime threads; default all cores).
// --emulate-avx2: run each case under qemu-user as a Haswell (AVX2, no VNNI), where onnxruntime's
// u8×s8 kernels add products in pairs into saturating 16-bit sums: the int8 error there is the
// figure that counts (the emulated seconds mean nothing). Needs Debian's `qemu-user`.
import "../packages/glide-ts/src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { relativeError } from "../packages/glide-ts/src/int8/output-error.ts";
import { int8Rewrite } from "../packages/glide-ts/src/int8/quantize-graph.ts";
import { calibrationFeeds } from "../packages/glide-ts/src/int8/unet-plan.ts";
import { countFlops } from "../packages/glide-ts/src/nn/flops.ts";
import { int8PlanOf } from "../packages/glide-ts/src/pipelines/int8-plan.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { textFeeds } from "../packages/glide-ts/src/pipelines/text-features.ts";
import type { CompiledGraph } from "../packages/glide-ts/src/runtime/session.ts";
import { describePlan, interleaved, pct, randomModel } from "./int8-drift.mts";

const threads = Number(process.env.THREADS ?? 0) || undefined;
const args = process.argv.slice(2);
const fp32Only = args.includes("--fp32-only");
const emulateAvx2 = args.includes("--emulate-avx2");
/** A CPU model with AVX2 and FMA but neither AVX-512 nor VNNI. */
const EMULATED_CPU = "Haswell-v4";
const CASES: Record<string, { batch: number; load: () => Promise<GlideModel>; label: string }> = {
  base: { batch: 2, load: async () => randomModel("base"), label: "released base shapes, random weights" },
  upsample: { batch: 1, load: async () => randomModel("upsample"), label: "released upsample shapes, random weights" },
  base32: {
    batch: 2,
    load: async () => (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" })).model,
    label: "shipped glide-ts-base32",
  },
  upsample128: {
    batch: 1,
    load: async () =>
      (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" })).model,
    label: "shipped glide-ts-upsample128",
  },
};
/** Timesteps of the error measurement (the calibration used others, and other inputs). */
const ERROR_TIMESTEPS = [900, 500, 100, 20];

async function measure(name: string): Promise<void> {
  const spec = CASES[name]!;
  const { batch } = spec;
  const model = await spec.load();
  const config = model.config;
  const weightBytes = 4 * model.params.count();
  const flops = countFlops(Object.values(model.unetGraph(batch).outputs)).total;
  console.log(
    `${name} (${spec.label}; ${(weightBytes / 4 / 1e6).toFixed(1)}M params), batch ${batch}, ${config.image_size}×${config.image_size}, ${(flops / 1e9).toFixed(0)} GFLOP conv+linear:`,
  );
  const session = { threads };
  // The int8 plan before the fp32 session: calibration's graphs on top of it outgrow this machine for upsample.
  const planStart = performance.now();
  const plan = fp32Only ? null : await int8PlanOf(model, session);
  const planSeconds = (performance.now() - planStart) / 1000;
  const compileStart = performance.now();
  const fp32 = await model.compileUNet(batch, session);
  const compileSeconds = (performance.now() - compileStart) / 1000;
  const captions = batch === 2 ? ["a red fox in the snow", ""] : ["a red fox in the snow"];
  const conditioning = await textFeeds(
    model,
    captions,
    captions.map((_, i) => i),
    session,
  );
  if (config.super_res) {
    const low = config.image_size / 4;
    conditioning.low_res = Float32Array.from({ length: batch * 3 * low * low }, (_, i) => Math.sin(i * 0.01));
  }
  const { feeds } = calibrationFeeds(model, { batch, conditioning, seed: 7, timesteps: ERROR_TIMESTEPS });
  const feed = feeds[1]!;
  let int8: CompiledGraph | null = null;
  if (plan) {
    for (const line of describePlan(plan, planSeconds)) console.log(line);
    int8 = await model.compileUNet(batch, { ...session, rewrite: int8Rewrite(plan) });
  }
  await fp32.run(feed); // warm-up
  if (int8) await int8.run(feed);
  const rate = (s: number) => (flops / 1e9 / s).toFixed(0);
  if (int8) {
    const t = await interleaved(
      () => fp32.run(feed),
      () => int8!.run(feed),
    );
    console.log(
      `  forward: fp32 ${t.a.toFixed(2)} s (${rate(t.a)} GFLOP/s) | int8 ${t.b.toFixed(2)} s (${rate(t.b)} G(FL)OP/s) | int8/fp32 ${(t.b / t.a).toFixed(2)}× the time (runs ${t.all.map(([a, b]) => `${a.toFixed(2)}/${b.toFixed(2)}`).join(", ")})`,
    );
    const shape = fp32.outputs[0]!.shape;
    const errors: string[] = [];
    for (const [i, f] of feeds.entries()) {
      const a = (await fp32.run(f)).out as Float32Array;
      const b = (await int8.run(f)).out as Float32Array;
      errors.push(`t=${ERROR_TIMESTEPS[i]} ${pct(relativeError(a, b, shape))}`);
    }
    console.log(`  int8 relative error of the predicted noise against fp32: ${errors.join(", ")}`);
  } else {
    const t = await interleaved(
      () => fp32.run(feed),
      async () => {},
      3,
    );
    console.log(`  forward: fp32 ${t.a.toFixed(2)} s (${rate(t.a)} GFLOP/s)`);
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `  fp32 compile ${compileSeconds.toFixed(1)} s; peak RSS (both sessions and the calibration) ${(peak / 2 ** 30).toFixed(2)} GiB = ${(peak / weightBytes).toFixed(2)}× the ${(weightBytes / 2 ** 30).toFixed(2)} GiB of weights`,
  );
}

const only = args.find((a) => a in CASES);
if (process.env.BENCH_FORWARD_CHILD) {
  await measure(only!);
} else {
  console.log(
    `onnxruntime-node, threads: ${threads ?? "default"}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")} (a shared machine: compare the ratios)`,
  );
  for (const name of only ? [only] : Object.keys(CASES)) {
    const command = [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), name, ...args];
    const env = { ...process.env, BENCH_FORWARD_CHILD: "1" };
    if (emulateAvx2) {
      console.log(
        `${name}: under qemu-x86_64 -cpu ${EMULATED_CPU} (no VNNI; emulated, so only the error figures count)`,
      );
      // qemu warns once per CPU feature it cannot emulate; those lines are dropped.
      const child = spawnSync("qemu-x86_64", ["-cpu", EMULATED_CPU, ...command], { env, encoding: "utf8" });
      if (child.error)
        throw new Error(`--emulate-avx2 needs qemu-user (apt-get install qemu-user): ${child.error.message}`);
      process.stdout.write(child.stdout);
      process.stderr.write(
        child.stderr
          .split("\n")
          .filter((l) => !l.includes("TCG doesn't support"))
          .join("\n"),
      );
      if (child.status !== 0) process.exitCode = 1;
      continue;
    }
    const child = spawnSync(command[0]!, command.slice(1), { stdio: "inherit", env });
    if (child.status !== 0) process.exitCode = 1;
  }
}
