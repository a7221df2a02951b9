// `npm run train:default`: reproduces the shipped default models from scratch. It builds the corpus
// (when the work folder has none) and trains every stage of models/recipe.json with `glide train`;
// running it again resumes each stage exactly where it stopped (the trainer's own resume).
//
//   npm run train:default -- [--work DIR] [--stage NAME]… [--sequential] [--threads N] [--from-shipped]
//                            [--start-from STAGE=WEIGHTS]…
//
// --from-shipped starts a stage whose run folder holds no checkpoint from the weights in models/
// (its optimizer state starts afresh): how training continues on a new machine, where the run
// folder of an earlier session is gone. --start-from does the same from other weights (e.g. a
// calibration run's ema.safetensors).
//
// By default the stages train side by side, each on its own share of the cores (two runs of one
// thread each keep two cores busier than one run of two threads: a small model's graph has little
// parallel work per op).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const glide = join(root, "packages", "app", "bin", "glide.js");
const shippedModels = join(root, "packages", "glide-ts", "models");

interface Stage {
  data: string;
  preset: string;
  config: Record<string, unknown>;
  train: Record<string, string | number | boolean | string[]>;
  export: string;
}
interface Recipe {
  /** `glide data build` settings: sizes, the shapes source's picture count and place-naming share. */
  corpus: { sizes: number[]; shapes?: number; shapesPlaceShare?: number };
  stages: Record<string, Stage>;
}

const { values } = parseArgs({
  options: {
    work: { type: "string", default: join(root, ".cache", "default-model") },
    stage: { type: "string", multiple: true },
    sequential: { type: "boolean", default: false },
    threads: { type: "string" },
    "from-shipped": { type: "boolean", default: false },
    "start-from": { type: "string", multiple: true },
  },
});
const startFrom = new Map(
  (values["start-from"] ?? []).map((entry) => {
    const [stage, file] = entry.split("=", 2);
    if (!stage || !file) throw new Error(`--start-from takes STAGE=WEIGHTS, got '${entry}'`);
    return [stage, resolve(file)] as const;
  }),
);
const recipe = JSON.parse(await readFile(join(shippedModels, "recipe.json"), "utf-8")) as Recipe;
const work = resolve(values.work!);
const names = values.stage ?? Object.keys(recipe.stages);
for (const name of [...names, ...startFrom.keys()]) {
  if (!recipe.stages[name]) throw new Error(`unknown stage '${name}' (recipe has: ${Object.keys(recipe.stages)})`);
}

function run(args: string[], label: string): Promise<void> {
  return new Promise((done, fail) => {
    process.stderr.write(`[${label}] glide ${args.join(" ")}\n`);
    const child = spawn(process.execPath, [glide, ...args], { stdio: ["ignore", "inherit", "inherit"] });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      if (code === 0) done();
      else fail(new Error(`[${label}] glide ${args[0]} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

/** `glide train` flags from a stage's options: arrays repeat the flag, `true` is a bare flag. */
export function trainFlags(options: Stage["train"]): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === false) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      flags.push(`--${key}`);
      if (item !== true) flags.push(String(item));
    }
  }
  return flags;
}

const corpus = join(work, "corpus");
await mkdir(work, { recursive: true });
if (!existsSync(join(corpus, "corpus.json"))) {
  // The shipped models saw Debian's openclipart-svg too: without it the corpus (and the model) differ.
  if (!existsSync("/usr/share/openclipart/svg")) {
    throw new Error("the recipe's corpus includes Debian's openclipart-svg: apt-get install openclipart-svg first");
  }
  const shapes = recipe.corpus.shapes === undefined ? [] : ["--shapes", String(recipe.corpus.shapes)];
  const { shapesPlaceShare } = recipe.corpus;
  if (shapesPlaceShare !== undefined) shapes.push("--shapes-place-share", String(shapesPlaceShare));
  await run(["data", "build", corpus, "--size", recipe.corpus.sizes.join(","), ...shapes], "corpus");
}

const threads =
  values.threads ?? String(Math.max(1, Math.floor(availableParallelism() / (values.sequential ? 1 : names.length))));
async function trainStage(name: string): Promise<void> {
  const stage = recipe.stages[name]!;
  const configPath = join(work, `${name}.config.json`);
  await writeFile(configPath, `${JSON.stringify(stage.config, null, 2)}\n`);
  const args = ["train", join(corpus, stage.data), "--out", join(work, name), "--preset", stage.preset];
  args.push("--config", configPath, ...trainFlags(stage.train), "--threads", threads);
  const start = startFrom.get(name) ?? (values["from-shipped"] ? join(shippedModels, stage.export) : undefined);
  if (start !== undefined && !existsSync(join(work, name, "checkpoint.safetensors"))) {
    if (!existsSync(start)) throw new Error(`the starting weights of ${name}, ${start}, are missing`);
    args.push("--checkpoint", start);
  }
  await run(args, name);
  process.stderr.write(
    `[${name}] done; export with: glide convert ${join(work, name, "ema.safetensors")} packages/glide-ts/models/${stage.export} --dtype float16 --embedding-init-seed ${stage.train.seed}\n`,
  );
}
if (values.sequential) for (const name of names) await trainStage(name);
else await Promise.all(names.map(trainStage));
