// What the sampling commands (generate, edit, upsample) share: model options, sampling options,
// output writing and the result report.

import { randomInt } from "node:crypto";
import { availableParallelism } from "node:os";
import { type Command, Option } from "commander";
import {
  CATALOG_HINT,
  DEFAULT_MODEL_FAMILY,
  DEFAULT_SAMPLER,
  DEFAULT_UPSAMPLE_STEPS,
  DEFAULT_UPSAMPLE_TEMPERATURE,
  DEVICES,
  type Device,
  type ExecutionProvider,
  encodeText,
  imageGrid,
  type LoadedModel,
  loadModelsFor,
  MODEL_FAMILY_NAMES,
  type ModelChoice,
  type ModelJob,
  numberedPath,
  type PictureModel,
  type PipelineResult,
  PRECISIONS,
  PRESET_NAMES,
  type Precision,
  parameterTexts,
  pictureParameters,
  RESIZE_FITS,
  resolveDevice,
  SAMPLER_NAMES,
  type StageTiming,
  writePng,
} from "glide-ts";
import {
  checkPrecisionOnProvider,
  deviceForPrecision,
  MAX_GUIDANCE,
  pictureModelOf,
  SOFTWARE,
} from "glide-ts/internals";
import { OptionValueError } from "./errors.ts";
import { parseCount, parseNumber, parsePositive, parseSeed, parseSteps, parseThreads } from "./parse.ts";
import { stageProgress, warmUpEvaluations } from "./progress.ts";

/** Options of the sampling commands, as commander parses them. */
export interface SamplingCommandOptions {
  model?: string;
  checkpoint?: string;
  preset?: string;
  config?: string;
  upsampler?: string;
  upsamplerPreset?: string;
  upsamplerConfig?: string;
  upsample?: boolean;
  sampler?: string;
  steps?: number | string;
  guidance?: number;
  upsampleSampler?: string;
  upsampleSteps?: number | string;
  upsampleTemp?: number;
  upsampleKeepLowRes?: boolean;
  seed?: number;
  batch?: number;
  out?: string;
  json?: boolean;
  threads?: number;
  device?: Device;
  precision?: Precision;
  quiet?: boolean;
  fit?: "crop" | "stretch";
}

export function addModelOptions(command: Command, what: string): void {
  command
    .addOption(
      new Option("--model <family>", `models to use (${CATALOG_HINT})`)
        .choices(MODEL_FAMILY_NAMES)
        .default(DEFAULT_MODEL_FAMILY),
    )
    .option("--checkpoint <path>", `${what} checkpoint (.pt or .safetensors) instead of the --model family's`)
    .addOption(
      new Option("--preset <name>", `configuration of the ${what} (default: recognized from the checkpoint)`).choices(
        PRESET_NAMES,
      ),
    )
    .option("--config <file>", `JSON file of the ${what}'s configuration (reference keyword names)`);
}

export function addUpsamplerOptions(command: Command): void {
  command
    .option("--upsampler <path>", "upsampler checkpoint (.pt or .safetensors)")
    .addOption(
      new Option("--upsampler-preset <name>", "configuration of the upsampler (default: recognized)").choices(
        PRESET_NAMES,
      ),
    )
    .option("--upsampler-config <file>", "JSON file of the upsampler's configuration")
    .option("--no-upsample", "keep the base model's resolution (no upsampler)");
}

const PLMS_NOTE = "plms makes one model evaluation more than its steps (the first step is evaluated twice)";

export function addSamplingOptions(command: Command, defaultGuidance: number, recommendedGuidance = true): void {
  const guidanceDefaultText = recommendedGuidance
    ? `the model's recommended, else ${defaultGuidance}`
    : String(defaultGuidance);
  command
    .addOption(
      new Option("--sampler <name>", `sampler (default: the model's recommended, else ${DEFAULT_SAMPLER})`).choices(
        SAMPLER_NAMES,
      ),
    )
    .option(
      "--steps <n>",
      `sampling steps, or a respacing ("fast27", "ddim25", "10,10,3"); default the model's recommended with its sampler, else 25 for dpm++2m, 100 ddpm, 50 ddim/plms; ${PLMS_NOTE}`,
      parseSteps,
    )
    .option(
      "--guidance <scale>",
      `classifier-free guidance scale (-${MAX_GUIDANCE} to ${MAX_GUIDANCE}; default ${guidanceDefaultText})`,
      parseGuidance,
    );
}

export function parseGuidance(value: string): number {
  const scale = parseNumber("--guidance")(value);
  if (Math.abs(scale) > MAX_GUIDANCE) {
    throw new OptionValueError(`--guidance must be from -${MAX_GUIDANCE} to ${MAX_GUIDANCE}.`);
  }
  return scale;
}

export function addUpsampleSamplingOptions(command: Command, defaultSampler: string, prefix = "upsample-"): void {
  const flag = (name: string) => `--${prefix}${name}`;
  command
    .addOption(
      new Option(`${flag("sampler")} <name>`, "upsampler's sampler").choices(SAMPLER_NAMES).default(defaultSampler),
    )
    .option(
      `${flag("steps")} <n>`,
      `upsampler's steps or respacing (default ${DEFAULT_UPSAMPLE_STEPS["dpm++2m"]} for dpm++2m, ${DEFAULT_UPSAMPLE_STEPS.ddim} for the others); ${PLMS_NOTE}`,
      parseSteps,
    )
    .option(
      `${flag("temp")} <t>`,
      "scale of the upsampler's starting noise (1 is sharper but can be grainy)",
      parsePositive(flag("temp")),
      DEFAULT_UPSAMPLE_TEMPERATURE,
    )
    .option(
      flag("keep-low-res"),
      "keep the upsampled picture's 4×4 block means equal to the low-res picture (default for upsamplers trained by glide-ts)",
    )
    .option(`--no-${prefix}keep-low-res`, "sample the upsampler as the reference does");
}

/** --device: where the networks run (see src/runtime/device.ts). */
export function addDeviceOption(command: Command): Command {
  return command.addOption(
    new Option("--device <device>", "where the networks run: auto takes a GPU only when one answers")
      .choices(DEVICES)
      .default("cpu"),
  );
}

export function addOutputOptions(command: Command, defaultOut: string): void {
  addDeviceOption(command);
  command
    .option("--seed <n>", "random seed S; image i of -n uses S+i (default: a random one, reported)", parseSeed)
    .option("-n, --batch <n>", "number of images (written as a grid, and one by one)", parseCount("--batch"), 1)
    .option("-o, --out <path>", `output PNG (default ${defaultOut})`)
    .option("--threads <n>", "CPU threads for onnxruntime, 1 to the cores here", parseThreads, availableParallelism())

    .addOption(
      new Option(
        "--precision <type>",
        "U-Net arithmetic: int8 quantizes the convolutions (calibrated at load, ~1-3 % drift; see README)",
      )
        .choices(PRECISIONS)
        .default("fp32"),
    )
    .option("--json", "print the result as JSON on stdout")
    .option("-q, --quiet", "no progress on stderr");
}

export function addFitOption(command: Command): void {
  command.addOption(
    new Option("--fit <how>", "how a picture that is not square is made square").choices(RESIZE_FITS).default("crop"),
  );
}

export function pipelineOptions(options: SamplingCommandOptions, seed: number) {
  return {
    sampler: options.sampler,
    steps: options.steps,
    guidanceScale: options.guidance,
    upsampleSampler: options.upsampleSampler,
    upsampleSteps: options.upsampleSteps,
    upsampleTemperature: options.upsampleTemp,
    upsampleKeepLowRes: options.upsampleKeepLowRes,
    seed,
    batchSize: options.batch ?? 1,
    threads: options.threads,
    device: options.device,
    precision: options.precision,
    onProgress: stageProgress(process.stderr, options.quiet === true, {
      base: options.sampler,
      upsample: options.upsampleSampler,
    }),
  };
}

/**
 * One line on stderr for each model that reads only the start of the prompt (its text_ctx tokens):
 * the tokenizer drops the rest without a word.
 */
export function warnLongPrompt(prompt: string, models: readonly (LoadedModel | null | undefined)[]): void {
  const tokens = encodeText(prompt).length;
  const contexts = new Set(models.flatMap((m) => (m?.model.textEncoder ? [m.model.config.text_ctx] : [])));
  for (const ctx of contexts) {
    if (tokens > ctx) {
      process.stderr.write(
        `glide: warning: the prompt is ${tokens} tokens long; the model reads only the first ${ctx} (the rest is ignored)\n`,
      );
    }
  }
}

export interface Models {
  base: LoadedModel;
  upsampler: LoadedModel | null;
}

/**
 * The base model (from --checkpoint, else the --model family's model for `job`) and the upsampler
 * (from --upsampler, else the family's when the base model came from the family too; none with
 * --no-upsample).
 */
export function loadModels(options: SamplingCommandOptions, job: ModelJob): Promise<Models> {
  return loadModelsFor(job, modelChoice(options));
}

/** The model options of a command as the library's ModelChoice. */
export function modelChoice(options: SamplingCommandOptions): ModelChoice {
  return {
    family: options.model,
    checkpoint: options.checkpoint,
    preset: options.preset,
    config: options.config,
    upsampler: options.upsampler,
    upsamplerPreset: options.upsamplerPreset,
    upsamplerConfig: options.upsamplerConfig,
    upsample: options.upsample,
  };
}

export interface Written {
  images: string[];
  grid: string | null;
}

/** One image: `out`. Several: their grid at `out`, and each at out-1.png, out-2.png, … */
/**
 * Writes the images (and, for several, their grid), each PNG with the parameters that made it
 * (`glide info PICTURE.png` reads them).
 */
export async function writeImages(out: string, result: PipelineResult, models: Partial<Models>): Promise<Written> {
  const { images } = result;
  const texts = await Promise.all(images.map((_, i) => pictureTexts(result, i, models)));
  if (images.length === 1) {
    await writePng(out, images[0], texts[0]);
    return { images: [out], grid: null };
  }
  const paths = images.map((_, i) => numberedPath(out, i + 1));
  for (let i = 0; i < images.length; i++) await writePng(paths[i], images[i], texts[i]);
  await writePng(out, imageGrid(images));
  return { images: paths, grid: out };
}

/** A loaded model as a picture names it: its file's name and SHA-256. */
function pictureModel(loaded: LoadedModel): Promise<PictureModel> {
  return pictureModelOf(loaded.checkpoint);
}

async function pictureTexts(result: PipelineResult, index: number, models: Partial<Models>) {
  // An upsample run has no base model: the upsampler is the model then.
  const upsampler = models.upsampler ? await pictureModel(models.upsampler) : null;
  const model = models.base ? await pictureModel(models.base) : (upsampler ?? { name: "none" });
  return parameterTexts(pictureParameters(result, index, { model, upsampler }, SOFTWARE));
}

export interface Report {
  command: string;
  prompt: string;
  models: Partial<Models>;
  result: PipelineResult;
  written: Written;
  loadSeconds: number;
  /** Extra fields for the JSON (e.g. the edited image). */
  extra?: Record<string, unknown>;
}

/** The result: JSON on stdout with --json, else one line per file written. */
export function report(options: SamplingCommandOptions, r: Report): void {
  const [, , height, width] = r.result.shape;
  if (options.json) {
    const timing = (t: StageTiming | null) =>
      t && { ...t, stepsPerSecond: t.steps / Math.max(t.sampling, 1e-9), secondsPerStep: t.sampling / t.steps };
    const model = (m: LoadedModel | null | undefined) => m && { checkpoint: m.checkpoint, preset: m.preset };
    const out = {
      command: r.command,
      prompt: r.prompt,
      seed: r.result.seed,
      seeds: r.result.seeds,
      width,
      height,
      ...r.extra,
      images: r.written.images,
      grid: r.written.grid,
      model: model(r.models.base),
      upsampler: model(r.models.upsampler),
      sampler: r.result.timings.base && {
        name: r.result.settings.base?.sampler ?? null,
        ...stepCounts(r.result.settings.base?.sampler, r.result.timings.base.steps),
        guidance: r.result.settings.base?.guidanceScale ?? null,
        clipGuidance: r.result.settings.base?.clipGuidanceScale ?? null,
      },
      upsampling: r.result.timings.upsample && {
        name: options.upsampleSampler,
        ...stepCounts(options.upsampleSampler, r.result.timings.upsample.steps),
        temperature: options.upsampleTemp,
        keepLowRes: r.result.settings.upsample?.keepLowRes ?? null,
      },
      timings: {
        loadSeconds: r.loadSeconds,
        base: timing(r.result.timings.base),
        upsample: timing(r.result.timings.upsample),
        totalSeconds: r.loadSeconds + r.result.timings.totalSeconds,
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const size = `${width}×${height}`;
  const { seed, seeds } = r.result;
  if (r.written.grid) {
    const range = `seeds ${seed}–${seeds[seeds.length - 1]}`;
    process.stdout.write(`wrote ${r.written.grid} (grid of ${r.written.images.length}, ${range})\n`);
  }
  r.written.images.forEach((path, i) => {
    process.stdout.write(`wrote ${path} (${size}, seed ${seeds[i]})\n`);
  });
}

/** A stage's steps and its model evaluations (the same but for PLMS). */
function stepCounts(sampler: string | undefined, evaluations: number): { steps: number; evaluations: number } {
  return { steps: evaluations - warmUpEvaluations(sampler, evaluations), evaluations };
}

export function randomSeed(): number {
  return randomInt(0, 2 ** 32);
}

export function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/**
 * Settles --device before anything loads (a clear error now, not after the models), saying what
 * auto chose; returns the execution provider for commands that build sessions themselves.
 */
export async function announceDevice(options: {
  device?: Device;
  precision?: Precision;
  quiet?: boolean;
}): Promise<ExecutionProvider> {
  const chosen = await resolveDevice(deviceForPrecision(options.device, options.precision) ?? "cpu");
  checkPrecisionOnProvider(options.precision, chosen.executionProvider);
  if (options.device === "auto" && !options.quiet)
    process.stderr.write(`glide: device auto: running on ${chosen.device}\n`);
  return chosen.executionProvider;
}
