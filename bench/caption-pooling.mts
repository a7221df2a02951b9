// npm run bench:pooling — does xf_pool "token" (our extension) learn captions sooner than GLIDE's
// last position when captions are shorter than text_ctx? The four-dot corpus of the caption test
// (5-token captions), trained with each pooling for the same steps and seeds, each model scored by
// how many of its guided samples are nearest their own caption's picture (chance: a quarter).
//
//   npm run bench:pooling -- [--ctx 12] [--steps 1200] [--seeds 0,1,2] [--threads 1]
import "../packages/glide-ts/src/platform/node.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveConfig, XF_POOLS } from "../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { loadCheckpointFile } from "../packages/glide-ts/src/io/checkpoint-file.ts";
import { train } from "../packages/glide-ts/src/train/trainer.ts";
import { fixtureConfig } from "../test/fixtures.ts";
import { scoreDots, writeDots } from "../test/train/dots.ts";

const { values } = parseArgs({
  options: {
    ctx: { type: "string", default: "12" },
    steps: { type: "string", default: "1200" },
    seeds: { type: "string", default: "0,1,2" },
    threads: { type: "string", default: "1" },
  },
});
const ctx = Number(values.ctx);
const steps = Number(values.steps);
const seeds = values.seeds!.split(",").map(Number);
const threads = Number(values.threads);
const SAMPLE_SEEDS = [1, 2, 3, 4];

const root = await mkdtemp(join(tmpdir(), "bench-pooling-"));
try {
  const images = await writeDots(join(root, "data"));
  console.log(
    `four 5-token captions, text_ctx ${ctx}, ${steps} steps a run (batch 4, lr 2e-3 cosine, EMA 0.99); ` +
      `${images.size * SAMPLE_SEEDS.length} samples a run at guidance 5 (chance ${(images.size * SAMPLE_SEEDS.length) / 4})`,
  );
  const totals = new Map<string, { right: number; total: number }>();
  for (const seed of seeds) {
    for (const pool of XF_POOLS) {
      const started = performance.now();
      const config = resolveConfig({ ...fixtureConfig(), text_ctx: ctx, xf_pool: pool });
      const run = await train({
        data: join(root, "data"),
        outDir: join(root, `run-${pool}-${seed}`),
        config,
        steps,
        batchSize: 4,
        lr: 2e-3,
        lrSchedule: "cosine",
        emaRate: 0.99,
        clipGradNorm: 1,
        seed,
        validationFraction: 0,
        threads,
      });
      const model = GlideModel.fromStateDict(config, (await loadCheckpointFile(run.weights)).stateDict);
      const score = await scoreDots(model, images, { seeds: SAMPLE_SEEDS, guidance: 5, threads });
      const sum = totals.get(pool) ?? { right: 0, total: 0 };
      totals.set(pool, { right: sum.right + score.right, total: sum.total + score.total });
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      console.log(
        `  seed ${seed}  xf_pool ${pool.padEnd(8)}  ${score.right}/${score.total} nearest their own picture  (${seconds} s)`,
      );
    }
  }
  for (const [pool, t] of totals) {
    console.log(
      `xf_pool ${pool.padEnd(8)}  ${t.right}/${t.total} (${((100 * t.right) / t.total).toFixed(0)}%) over seeds ${seeds.join(",")}`,
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
