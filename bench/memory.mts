// npm run bench:memory — where the memory of a whole sampling run goes, with the released model
// shapes (random weights): `base` (text → 64×64 with guidance: text encoder and U-Net at batch 2)
// and `upsample` (64 → 256: text encoder and U-Net at batch 1), two sampler steps each, built the
// way sessions are built now and the way they were before (the weights kept in JavaScript beside
// onnxruntime's copy, and onnxruntime's CPU arena). Each case runs in its own process, so that its
// peak RSS is its own; figures are multiples of the model's float32 weights.
import "../packages/glide-ts/src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../packages/glide-ts/src/glide/presets.ts";
import { sessionsOf } from "../packages/glide-ts/src/pipelines/sessions.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { upsample } from "../packages/glide-ts/src/pipelines/upsample.ts";
import type { SessionOptions } from "../packages/glide-ts/src/runtime/session.ts";
import { storeWeights } from "../packages/glide-ts/src/runtime/stored-weights.ts";

const threads = Number(process.env.THREADS ?? 0) || undefined;
const prompt = "an oil painting of a corgi";
const WAYS = ["now", "before"] as const;
type Way = (typeof WAYS)[number];

interface Figures {
  weightsGiB: number;
  /** The parameter arrays in JavaScript, after the model is made and after its sessions are built. */
  jsWeights: number;
  jsWeightsAfter: number;
  /** What building each session added to the RSS (now: after the weights went to a file). */
  textSession: number;
  unetSession: number;
  /** Peak during sampling over the RSS before it: activations, and what onnxruntime keeps of them. */
  sampling: number;
  peak: number;
  buildSeconds: number;
}

async function measure(preset: string, way: Way): Promise<Figures> {
  const before = way === "before";
  const model = new GlideModel(presetConfig(preset), { init: 1, weightsInMemory: before });
  const weights = 4 * model.params.count();
  const memory = () => process.memoryUsage();
  const jsWeights = memory().arrayBuffers / weights;
  const session: SessionOptions = { threads, keepRunMemory: before };
  const upsampler = model.config.super_res;
  const batch = upsampler ? 1 : 2;
  const buildStart = performance.now();
  if (!before) await storeWeights(model.params);
  let rss = memory().rss;
  const grown = () => {
    const now = memory().rss;
    const delta = (now - rss) / weights;
    rss = now;
    return delta;
  };
  await sessionsOf(model).textEncoder(batch, session);
  const textSession = grown();
  await sessionsOf(model).unet(batch, { lowResSize: upsampler ? model.config.image_size / 4 : undefined, session });
  const unetSession = grown();
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const jsWeightsAfter = memory().arrayBuffers / weights;
  const common = { prompt, steps: 2, seed: 1, sampler: "dpm++2m" as const, session };
  if (upsampler) {
    const low = model.config.image_size / 4;
    const data = new Uint8Array(low * low * 3).map((_, i) => (i * 37) % 256);
    await upsample({ ...common, upsampler: model, image: { width: low, height: low, channels: 3, data } });
  } else {
    await textToImage({ ...common, model });
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  return {
    weightsGiB: weights / 2 ** 30,
    jsWeights,
    jsWeightsAfter,
    textSession,
    unetSession,
    sampling: (peak - rss) / weights,
    peak: peak / weights,
    buildSeconds,
  };
}

function row(cells: (string | number)[]): string {
  return `| ${cells.map((c) => (typeof c === "number" ? `${c.toFixed(2)}×` : c)).join(" | ")} |`;
}

const [preset, way] = process.argv.slice(2);
if (preset) {
  console.log(JSON.stringify(await measure(preset, way as Way)));
} else {
  console.log(`bench:memory — onnxruntime-node CPU, threads: ${threads ?? "default"}; × the float32 weights`);
  for (const name of ["base", "upsample"]) {
    const results: [Way, Figures][] = [];
    for (const w of WAYS) {
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name, w], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
      if (child.status !== 0) {
        process.exitCode = 1;
        continue;
      }
      results.push([w, JSON.parse(child.stdout.trim().split("\n").pop()!) as Figures]);
    }
    if (results.length === 0) continue;
    console.log(`\n${name} (${results[0]![1].weightsGiB.toFixed(2)} GiB of weights), two sampler steps:`);
    console.log(
      row(["sessions", "JS weights (built)", "text session", "U-Net session", "sampling", "peak RSS", "build"]),
    );
    console.log(row(["---", "---", "---", "---", "---", "---", "---"]));
    for (const [w, f] of results) {
      console.log(
        row([
          w,
          `${f.jsWeights.toFixed(2)}× (${f.jsWeightsAfter.toFixed(2)}×)`,
          f.textSession,
          f.unetSession,
          f.sampling,
          f.peak,
          `${f.buildSeconds.toFixed(1)} s`,
        ]),
      );
    }
  }
}
