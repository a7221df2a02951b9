// `glide eval --checkpoint FILE --data CORPUS.jsonl`: figures for a text2im model (colour test,
// caption match, validation loss, sampler figures, seconds per image) or for a super-res model
// (held-out pairs upsampled against the true pictures), chosen by the model's variant, as a table,
// or as JSON with --json.
import { access } from "node:fs/promises";
import { availableParallelism } from "node:os";
import {
  checkEvalModel,
  type EvalPhase,
  formatReport,
  formatUpsampleReport,
  runEval,
  runUpsampleEval,
} from "@glide-ts/eval";
import { type Command, Option } from "commander";
import {
  DEFAULT_GUIDANCE,
  DEFAULT_UPSAMPLE_SAMPLER,
  DEFAULT_UPSAMPLE_STEPS,
  DEFAULT_UPSAMPLE_TEMPERATURE,
  type Device,
  type LoadedModel,
  loadModel,
  PipelineError,
  PRECISIONS,
  PRESET_NAMES,
  type Precision,
  ProgressBar,
  samplingChoice,
} from "glide-ts";
import { DEFAULT_VALIDATION_FRACTION } from "glide-ts/internals";
import { OptionValueError } from "../errors.ts";
import {
  parseCount,
  parseNonNegative,
  parseNonNegativeInteger,
  parsePositive,
  parseSeed,
  parseThreads,
} from "../parse.ts";
import { addDeviceOption, addSamplingOptions, announceDevice } from "../sampling-options.ts";

interface EvalCommandOptions {
  checkpoint?: string;
  preset?: string;
  config?: string;
  data: string;
  seeds?: number;
  seed: number;
  captions?: number;
  referenceSteps: number;
  pairs?: number;
  temp?: number;
  keepLowRes?: boolean;
  validationPairs?: number;
  validationFraction: number;
  sampler?: string;
  steps?: number | string;
  guidance?: number;
  quick?: boolean;
  threads: number;
  precision: Precision;
  json?: boolean;
  quiet?: boolean;
  device?: Device;
}

/** The full run's sizes, and --quick's (pairs: the super-res eval's). */
const SIZES = {
  full: { seeds: 4, captions: 24, validationPairs: 64, pairs: 16 },
  quick: { seeds: 2, captions: 8, validationPairs: 16, pairs: 4 },
};

export function registerEval(program: Command): void {
  const command = program
    .command("eval")
    .description(
      "figures for a text2im model (colour test, caption match, validation loss, seconds per image) or a super-res model (PSNR and SSIM of held-out pairs upsampled)",
    )
    .option("--checkpoint <path>", "the model's checkpoint (.pt or .safetensors); required for now")
    .addOption(
      new Option("--preset <name>", "configuration of the model (default: its own, or recognized)").choices(
        PRESET_NAMES,
      ),
    )
    .option("--config <file>", "JSON file of the model's configuration (reference keyword names)")
    .requiredOption(
      "--data <corpus>",
      "the image–caption pairs (a .jsonl manifest as `glide data build` writes), at the model's resolution",
    )
    .option("--seeds <n>", `samples a prompt (default ${SIZES.full.seeds}; --quick ${SIZES.quick.seeds})`, parseSeeds)
    .option("--seed <n>", "seed of each prompt's samples", parseSeed, 0)
    .option(
      "--captions <k>",
      `training and held-out captions for caption match, each (default ${SIZES.full.captions}; --quick ${SIZES.quick.captions})`,
      parseCount("--captions"),
    )
    .option(
      "--validation-pairs <n>",
      `held-out pairs for the validation loss (default ${SIZES.full.validationPairs}; --quick ${SIZES.quick.validationPairs})`,
      parseCount("--validation-pairs"),
    )
    .option(
      "--reference-steps <n>",
      "text2im: also the convergence figure, against DPM-Solver++ at this many steps (0: off)",
      parseNonNegativeInteger("--reference-steps"),
      0,
    )
    .option(
      "--pairs <n>",
      `super-res: held-out pairs to upsample (default ${SIZES.full.pairs}; --quick ${SIZES.quick.pairs})`,
      parseCount("--pairs"),
    )
    .option(
      "--temp <t>",
      `super-res: scale of the starting noise (default ${DEFAULT_UPSAMPLE_TEMPERATURE})`,
      parsePositive("--temp"),
    )
    .option("--keep-low-res", "super-res: keep the output's 4×4 block means equal to the input (default: the model's)")
    .option("--no-keep-low-res", "super-res: sample as the reference does")
    .option(
      "--validation-fraction <f>",
      "held-out share of the pairs, by key hash (as the model was trained: `glide train`'s default)",
      parseFraction,
      DEFAULT_VALIDATION_FRACTION,
    );
  addSamplingOptions(command, DEFAULT_GUIDANCE);
  addDeviceOption(command);
  command
    .option("--quick", "a small run: fewer samples, captions and validation pairs")
    .option("--threads <n>", "CPU threads for onnxruntime, 1 to the cores here", parseThreads, availableParallelism())
    .addOption(
      new Option(
        "--precision <type>",
        "U-Net arithmetic of the samples (int8: as glide generate --precision int8; the validation loss and the convergence reference stay fp32)",
      )
        .choices(PRECISIONS)
        .default("fp32"),
    )
    .option("--json", "print every figure and the settings as one JSON object")
    .option("-q, --quiet", "no progress on stderr")
    .addHelpText(
      "after",
      `
Figures (goals in brackets):
  colour test      "red heart" … "purple heart": the dominant hue (HSV, saturation-weighted, white
                   and grey background left out) of each sample; a colour passes when most of its
                   samples have it [6/6]
  caption probe    prompts in the shapes corpus's words ("a blue star", "a red square on the
                   left"; four colour–shape pairs the corpus never draws): each sample's colour
                   (nearest corpus colour of its drawn pixels), shape (the outline overlapping it
                   best) and place (its centre) against the prompt's [colour ≥ 90%, held-out
                   pairs too; shape ≥ 80%; place ≥ 75%]
  caption match    training captions, and held-out captions (of validation pairs, none of them a
                   training caption), chosen by a hash of the caption: a hit when a sample's
                   nearest corpus picture (3×3 blur, 8×8 area downsample, squared L2) has the
                   prompt's caption; guided, unguided (guidance 1) and chance (a random corpus
                   picture) [guided ≥ 25% on training captions and ≥ 5× unguided]
  validation loss  the trainer's held-out loss (fixed timesteps and noise, as --validate-every)
  nearest picture  RMS distance of each sample's signature to its nearest training picture's,
                   beside the held-out corpus pictures' own (a realistic new picture's distance)
  convergence      with --reference-steps N and a deterministic sampler (ddim, plms, dpm++2m):
                   PSNR of the colour test's samples against DPM-Solver++ at N steps from the
                   same seeds (the same ODE solved finely): how far fewer steps are from the limit
  seconds/image    sampling wall time over the images drawn

A super-res model (variant chosen by the checkpoint) is evaluated on --pairs held-out pairs of a
corpus at its own resolution (e.g. corpus/128/all.jsonl for a 32 → 128 model): each one's low-res
input is made as in training (4× box average, 8 bits), upsampled with --sampler/--steps/--temp
(default ${DEFAULT_UPSAMPLE_SAMPLER} at ${DEFAULT_UPSAMPLE_STEPS[DEFAULT_UPSAMPLE_SAMPLER]} steps, as glide upsample) from seed --seed + i, and compared with the true
picture: PSNR, PSNR of the 4×4 block means (agreement with the input), SSIM (luma), beside a
bicubic resize of the same input; seconds per image. --guidance does not apply (the upsampler is
not guided).

Each prompt's samples are one batch from --seed: \`glide generate PROMPT --seed S -n SEEDS
--no-upsample\` with the same model and sampling options draws them again.

Examples:
  glide eval --checkpoint runs/tiny/ema.safetensors --data corpus/32/all.jsonl
  glide eval --checkpoint runs/tiny/ema.safetensors --data corpus/32/all.jsonl --quick --json
  glide eval --checkpoint models/glide-ts-upsample128.safetensors --data corpus/128/all.jsonl --quick`,
    );
  command.action(async (options: EvalCommandOptions) => {
    await checkReadable(options.data);
    const loaded = await loadEvalModel(options);
    if (loaded.model.variant === "super-res") {
      await evalUpsampler(loaded, options, options.sampler === undefined);
      return;
    }
    if (loaded.model.variant !== "text2im") {
      throw new PipelineError(
        `${loaded.checkpoint}: glide eval takes a text2im or a super-res model, got ${article(loaded.model.variant)} ${loaded.model.variant} model`,
      );
    }
    checkEvalModel(loaded.model, loaded.checkpoint);
    const sizes = options.quick ? SIZES.quick : SIZES.full;
    const progress = phaseProgress(options.quiet === true);
    // Unset sampling options: what `glide generate` would use with this model.
    const sampling = samplingChoice(
      loaded.model,
      { sampler: options.sampler, steps: options.steps, guidance: options.guidance },
      DEFAULT_GUIDANCE,
      true,
    );
    const report = await runEval({
      model: loaded.model,
      data: options.data,
      seeds: options.seeds ?? sizes.seeds,
      seed: options.seed,
      guidance: sampling.guidance,
      sampler: sampling.sampler,
      steps: sampling.steps,
      captions: options.captions ?? sizes.captions,
      referenceSteps: options.referenceSteps,
      validationPairs: options.validationPairs ?? sizes.validationPairs,
      validationFraction: options.validationFraction,
      precision: options.precision,
      session: { threads: options.threads, executionProvider: await announceDevice(options) },
      onProgress: progress.update,
    }).catch((error: unknown) => {
      progress.cancel();
      throw error;
    });
    progress.finish();
    printReport(loaded, options, report, formatReport);
  });
}

/** The super-res eval: the upsampler's own sampling defaults unless --sampler was given. */
async function evalUpsampler(loaded: LoadedModel, options: EvalCommandOptions, defaultSampler: boolean) {
  const sizes = options.quick ? SIZES.quick : SIZES.full;
  const bar = options.quiet ? null : new ProgressBar("upsampling held-out pairs", undefined, { unit: "pairs" });
  bar?.start();
  const report = await runUpsampleEval({
    model: loaded.model,
    data: options.data,
    pairs: options.pairs ?? sizes.pairs,
    seed: options.seed,
    sampler: defaultSampler ? DEFAULT_UPSAMPLE_SAMPLER : options.sampler!,
    steps: options.steps,
    temperature: options.temp,
    keepLowRes: options.keepLowRes,
    validationFraction: options.validationFraction,
    precision: options.precision,
    session: { threads: options.threads, executionProvider: await announceDevice(options) },
    onProgress: (done, _total, detail) => bar?.update(done, detail ?? ""),
  }).catch((error: unknown) => {
    bar?.cancel();
    throw error;
  });
  bar?.end();
  printReport(loaded, options, report, formatUpsampleReport);
}

/** A report on stdout: JSON with --json (the model, the settings, every figure), else the table. */
function printReport<R extends { settings: object }>(
  loaded: LoadedModel,
  options: EvalCommandOptions,
  report: R,
  format: (report: R, label: string) => string,
): void {
  const config = loaded.model.config;
  const model = {
    checkpoint: loaded.checkpoint,
    preset: loaded.preset,
    variant: loaded.model.variant,
    imageSize: config.image_size,
  };
  if (options.json) {
    const { settings, ...figures } = report;
    const json = { command: "eval", model, settings: { ...settings, quick: options.quick === true }, ...figures };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const preset = loaded.preset ? `, preset ${loaded.preset}` : "";
    const label = `${loaded.checkpoint} (${model.variant} ${config.image_size}×${config.image_size}${preset})`;
    process.stdout.write(format(report, label));
  }
}

/** The model to evaluate; the one place to change when glide eval gets a default model. */
async function loadEvalModel(options: EvalCommandOptions): Promise<LoadedModel> {
  if (options.checkpoint === undefined) {
    throw new PipelineError("glide eval needs --checkpoint FILE (it has no default model yet)");
  }
  // The validation loss feeds the parameter values to a training graph: they stay in memory.
  return loadModel({
    checkpoint: options.checkpoint,
    preset: options.preset,
    config: options.config,
    weightsInMemory: true,
  });
}

async function checkReadable(path: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new PipelineError(`--data ${path}: no such file or folder`);
  }
}

/** One bar per phase on stderr (a summary line each off a terminal); nothing when quiet. */
function phaseProgress(quiet: boolean) {
  const labels: Record<EvalPhase, [string, string]> = {
    corpus: ["reading the corpus", "pairs"],
    colour: ["colour test", "prompts"],
    probe: ["caption probe", "prompts"],
    words: ["word gain", "runs"],
    reference: ["convergence reference", "prompts"],
    captions: ["caption match", "prompts"],
    validation: ["validation loss", "batches"],
  };
  let phase: EvalPhase | null = null;
  let bar: ProgressBar | null = null;
  return {
    update: (next: EvalPhase, done: number, total: number | undefined, detail?: string) => {
      if (quiet) return;
      if (next !== phase) {
        bar?.end();
        phase = next;
        const [label, unit] = labels[next];
        bar = new ProgressBar(label, total, { unit });
        bar.start();
      }
      bar?.update(done, detail ?? "");
    },
    finish: () => {
      bar?.end();
    },
    cancel: () => {
      bar?.cancel();
    },
  };
}

function parseSeeds(value: string): number {
  const n = parseCount("--seeds")(value);
  // Each prompt's samples are one batch, and the pipelines take up to 256.
  if (n > 256) throw new OptionValueError("--seeds must be at most 256.");
  return n;
}

function parseFraction(value: string): number {
  const f = parseNonNegative("--validation-fraction")(value);
  if (f > 1) throw new OptionValueError("--validation-fraction must be from 0 to 1.");
  return f;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}
