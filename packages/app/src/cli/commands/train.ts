// `glide train DATA --out DIR`: trains or fine-tunes a GLIDE model (any of the four variants) on a
// folder, a JSONL manifest or WebDataset tar shards; resumes from DIR's checkpoint when there is one.

import {
  colourSensitivity,
  DEFAULT_PROBE_SETTINGS,
  probeMetrics,
  runCaptionProbe,
  WORD_KINDS,
  wordGain,
} from "@glide-ts/eval";
import { type Command, Option } from "commander";
import {
  configFrom,
  DEVICES,
  type Device,
  type GlideConfig,
  type LossWeighting,
  loadModel,
  type ParamValue,
  PipelineError,
  ProgressBar,
  parseLossWeighting,
  type StepProgress,
  type TrainOptions,
  train,
} from "glide-ts";
import { DEFAULT_VALIDATION_FRACTION } from "glide-ts/internals";
import {
  cliParser,
  parseCount,
  parseNonNegative,
  parseNonNegativeInteger,
  parsePositive,
  parseSeed,
  parseThreads,
} from "../parse.ts";
import { announceDevice } from "../sampling-options.ts";
import { firstPicture, sampleGrid } from "../train-samples.ts";

interface TrainCommandOptions {
  out: string;
  preset?: string;
  config?: string;
  checkpoint?: string;
  steps: number;
  batch: number;
  accumulate: number;
  lr: number;
  warmup: number;
  lrSchedule: "constant" | "cosine";
  weightDecay: number;
  clip: number;
  ema: number;
  emaWarmup: boolean;
  captionDropout: number;
  lossWeight: LossWeighting;
  freezeText?: boolean;
  saveEvery: number;
  validateEvery: number;
  validationFraction: number;
  validationPairs?: number;
  sampleEvery: number;
  samplePrompt: string[];
  sampleSteps: number;
  sampleImage?: string;
  probeEvery: number;
  seed: number;
  resume: boolean;
  threads?: number;
  json?: boolean;
  crop?: number;
  optimizer?: "host" | "graph";
  device?: Device;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train or fine-tune a GLIDE model on image–caption pairs")
    .argument("<data...>", "a folder of images with .txt captions, a .jsonl manifest, or .tar shards")
    .requiredOption("--out <dir>", "run directory: checkpoint, EMA weights, config.json, metrics.jsonl, samples/")
    .option("--preset <name>", "model shape (e.g. tiny, small, base); with --checkpoint, its configuration")
    .option("--config <file>", "model configuration as JSON (reference keyword names)")
    .option("--checkpoint <path>", "fine-tune from these weights (.pt or .safetensors)")
    .option("--steps <n>", "total optimizer steps", parseCount("--steps"), 1000)
    .option("--batch <n>", "pairs per graph run", parseCount("--batch"), 4)
    .option("--accumulate <k>", "micro-batches averaged per step", parseCount("--accumulate"), 1)
    .option("--lr <rate>", "AdamW learning rate", parsePositive("--lr"), 1e-4)
    .option("--warmup <steps>", "linear learning-rate warmup", parseNonNegativeInteger("--warmup"), 0)
    .addOption(
      new Option("--lr-schedule <schedule>", "after warmup: constant, or cosine decay to 0 at --steps")
        .choices(["constant", "cosine"])
        .default("constant"),
    )
    .option("--weight-decay <wd>", "decoupled weight decay", parseNonNegative("--weight-decay"), 0)
    .option("--clip <norm>", "clip the gradient's global norm (0: off)", parseNonNegative("--clip"), 1)
    .option(
      "--ema <rate>",
      "EMA rate of the saved weights (0: save the raw parameters)",
      parseNonNegative("--ema"),
      0.9999,
    )
    .option("--no-ema-warmup", "use the EMA rate from the first step (default: min(rate, (1+t)/(10+t)) at step t)")
    .option(
      "--caption-dropout <p>",
      "share of captions dropped for classifier-free guidance",
      parseNonNegative("--caption-dropout"),
      0.2,
    )
    .option(
      "--loss-weight <scheme>",
      "weight of the noise loss per timestep: uniform (GLIDE), min-snr[:γ] (default 5) or inv-snr[:cap] (1 + min(1/SNR, cap), default 20)",
      cliParser(parseLossWeighting),
      { kind: "uniform" } as LossWeighting,
    )
    .option("--freeze-text", "keep the text encoder fixed (fine-tuning)")
    .option("--save-every <n>", "checkpoint every n steps (and at exit)", parseCount("--save-every"), 500)
    .option(
      "--validate-every <n>",
      "validation loss every n steps (0: off)",
      parseNonNegativeInteger("--validate-every"),
      0,
    )
    .option(
      "--validation-fraction <f>",
      "held-out share of the pairs",
      parseNonNegative("--validation-fraction"),
      DEFAULT_VALIDATION_FRACTION,
    )
    .option("--validation-pairs <n>", "held-out pairs evaluated", parseCount("--validation-pairs"))
    .option(
      "--sample-every <n>",
      "sample grid of the --sample-prompt prompts every n steps (0: off)",
      parseNonNegativeInteger("--sample-every"),
      0,
    )
    .option("--sample-prompt <text>", "a prompt for the sample grid (repeatable)", collect, [])
    .option("--sample-steps <n>", "sampling steps for the sample grid", parseCount("--sample-steps"), 25)
    .option(
      "--sample-image <file>",
      "the picture inpainting models redraw the centre of and upsamplers upsample (default: the data's first)",
    )
    .option(
      "--probe-every <n>",
      "text2im: the caption probe (colour, shape and place words of the shapes corpus) every n steps, logged to metrics.jsonl (0: off)",
      parseNonNegativeInteger("--probe-every"),
      0,
    )
    .option("--seed <n>", "seed of every random choice in the run", parseSeed, 0)
    .option("--no-resume", "start over even if --out holds a checkpoint")
    .option(
      "--crop <side>",
      "super-res models: train on random crops of this side (weights stay full-size)",
      parseCount("--crop"),
    )
    .addOption(
      new Option(
        "--optimizer <where>",
        "apply AdamW/EMA on the host (default on CPU) or inside the step graph",
      ).choices(["host", "graph"]),
    )
    .option("--threads <n>", "onnxruntime threads, 1 to the cores here", parseThreads)
    .addOption(
      new Option("--device <device>", "where the training step runs: auto takes a GPU only when one answers")
        .choices(DEVICES)
        .default("cpu"),
    )
    .option("--json", "print the summary as JSON")
    .action(async (data: string[], options: TrainCommandOptions) => {
      const executionProvider = await announceDevice(options);
      const { config, initialWeights } = await modelFor(options);
      const bar = new ProgressBar("training", options.steps);
      let stopRequested = false;
      const stop = () => {
        stopRequested = true;
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const trainOptions: TrainOptions = {
        data: data.length === 1 ? data[0]! : data,
        outDir: options.out,
        config,
        initialWeights,
        steps: options.steps,
        batchSize: options.batch,
        accumulate: options.accumulate,
        lr: options.lr,
        warmupSteps: options.warmup,
        lrSchedule: options.lrSchedule,
        weightDecay: options.weightDecay,
        clipGradNorm: options.clip > 0 ? options.clip : null,
        emaRate: options.ema > 0 ? options.ema : null,
        emaWarmup: options.emaWarmup,
        captionDropout: options.captionDropout,
        lossWeighting: options.lossWeight,
        freezeTextEncoder: options.freezeText === true,
        saveEvery: options.saveEvery,
        validateEvery: options.validateEvery,
        validationFraction: options.validationFraction,
        validationPairs: options.validationPairs,
        sampleEvery: options.sampleEvery,
        sample: await sampleGridFor(data, config, options),
        probeEvery: options.probeEvery,
        probe: options.probeEvery > 0 ? captionProbeFor(config, options) : undefined,
        seed: options.seed,
        resume: options.resume,
        threads: options.threads,
        executionProvider,
        optimizer: options.optimizer,
        cropSize: options.crop,
        shouldStop: () => stopRequested,
        onStart: (step) => bar.resume(step),
        onStep: (p) => bar.update(p.step, progressDetail(p)),
      };
      const summary = await train(trainOptions);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      bar.end();
      const last = summary.losses.at(-1);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...summary, losses: undefined, lastLoss: last ?? null })}\n`);
      } else {
        process.stdout.write(
          `trained steps ${summary.startStep}→${summary.step}${last === undefined ? "" : `, last loss ${last.toFixed(4)}`}; ` +
            `weights ${summary.weights}, checkpoint ${summary.checkpoint}` +
            (summary.skippedImages > 0 ? `; ${summary.skippedImages} unreadable images skipped` : "") +
            "\n",
        );
      }
    });
}

function progressDetail(p: StepProgress): string {
  const parts = [`loss ${p.loss.toFixed(4)}`, `${p.imagesPerSecond.toFixed(1)} img/s`];
  if (p.validationLoss !== undefined) parts.push(`val ${p.validationLoss.toFixed(4)}`);
  if (p.captionGain !== undefined) parts.push(`caption gain ${(100 * p.captionGain).toFixed(2)}%`);
  if (p.skippedImages > 0) parts.push(`${p.skippedImages} skipped`);
  return parts.join("  ");
}

/** The caption probe with its default settings; text2im models only. */
function captionProbeFor(config: GlideConfig, options: TrainCommandOptions): TrainOptions["probe"] {
  if (config.inpaint || config.super_res || config.text_ctx === 0) {
    throw new PipelineError("--probe-every is for text2im models with a text encoder");
  }
  const session = { threads: options.threads };
  return async (model) => {
    const gains = await wordGain(model, { session });
    return {
      ...probeMetrics((await runCaptionProbe(model, DEFAULT_PROBE_SETTINGS, session)).figures),
      colour_sensitivity: (await colourSensitivity(model, session)).mean,
      ...Object.fromEntries(WORD_KINDS.map((kind) => [`word_gain_${kind}`, gains.mean[kind]])),
    };
  };
}

/** The configuration and, when fine-tuning, the starting weights. */
async function modelFor(
  options: TrainCommandOptions,
): Promise<{ config: GlideConfig; initialWeights?: ReadonlyMap<string, ParamValue> }> {
  if (options.checkpoint) {
    const loaded = await loadModel({ checkpoint: options.checkpoint, preset: options.preset, config: options.config });
    const weights = new Map<string, ParamValue>();
    for (const [name, tensor] of loaded.model.params.params) {
      const value = (tensor.attrs as { value: Float32Array | null }).value;
      if (value) weights.set(name, { data: value, shape: tensor.shape });
    }
    return { config: loaded.model.config, initialWeights: weights };
  }
  if (options.preset === undefined && options.config === undefined) {
    throw new PipelineError("give the model's shape: --preset NAME or --config FILE (or --checkpoint to fine-tune)");
  }
  return { config: await configFrom({ preset: options.preset, config: options.config }) };
}

/** The sample-grid callback, when prompts are given (a picture is read only for models that need one). */
async function sampleGridFor(
  data: string[],
  config: GlideConfig,
  options: TrainCommandOptions,
): Promise<TrainOptions["sample"]> {
  if (options.samplePrompt.length === 0 || options.sampleEvery === 0) return undefined;
  const needsPicture = config.inpaint || config.super_res;
  const image = !needsPicture
    ? undefined
    : (options.sampleImage ?? (await firstPicture(data.length === 1 ? data[0]! : data, config.image_size)));
  return sampleGrid(config, {
    prompts: options.samplePrompt,
    steps: options.sampleSteps,
    seed: options.seed,
    threads: options.threads,
    image,
  });
}
