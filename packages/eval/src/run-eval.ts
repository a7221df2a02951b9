// `glide eval`'s figures for one text2im model: the colour test, caption match on training and
// held-out captions, the validation loss and the seconds per image. Every sample is reproducible
// with `glide generate PROMPT --seed SEED -n SEEDS --no-upsample` and the same sampling options.
import type { GlideModel, Precision, RgbImage, SessionOptions } from "glide-ts";
import { PipelineError, textToImage } from "glide-ts";
import { checkBatchSize, checkPrecision, imageToTensor, samplerSpec } from "glide-ts/internals";
import {
  captionCounts,
  chooseCaptions,
  type MatchFigure,
  matchFigure,
  meetsMatchGoal,
  nearest,
  type PromptMatches,
  signature,
} from "./caption-match.ts";
import { PROBE_PROMPTS, type ProbeFigures, type ProbeRow, probeFigures, readShapeSample } from "./caption-probe.ts";
import { COLOUR_PROMPTS, type ColourFigure, colourFigure, colourRow, dominantHue } from "./colour.ts";
import { type CorpusIndex, captionsOf, indexCorpus } from "./corpus-index.ts";
import { type FigureSummary, summarize } from "./image-quality.ts";
import {
  convergence,
  heldOutDistances,
  isDeterministic,
  nearestDistance,
  REFERENCE_SAMPLER,
  trainingSignatures,
} from "./sampler-figures.ts";
import { type ValidationLoss, validationLoss } from "./validation-loss.ts";
import { type WordGain, wordGain } from "./word-gain.ts";

export interface EvalSettings {
  /** Samples per prompt (one batch from `seed`). */
  seeds: number;
  seed: number;
  guidance: number;
  sampler: string;
  /** A count or a respacing; undefined: the sampler's default. */
  steps?: number | string;
  /** Training and held-out captions for caption match, each; 0 leaves caption match out. */
  captions: number;
  /**
   * Steps of the convergence reference (the colour test's prompts drawn with DPM-Solver++ from the
   * same seeds); 0 leaves convergence out. Only deterministic samplers get the figure.
   */
  referenceSteps: number;
  validationPairs: number;
  validationFraction: number;
  /** The U-Net's arithmetic for the samples (default fp32); the validation loss and the convergence reference stay fp32. */
  precision?: Precision;
}

export type EvalPhase = "corpus" | "colour" | "probe" | "words" | "reference" | "captions" | "validation";

export interface EvalOptions extends EvalSettings {
  model: GlideModel;
  /** A dataset `openDataset` reads (a .jsonl manifest as `glide data build` writes). */
  data: string;
  session?: SessionOptions;
  /** The index of `data` at the model's resolution, when the caller has one (several runs on one corpus). */
  corpus?: CorpusIndex;
  /**
   * Convergence references already drawn, by prompt and settings (several runs with one seed share
   * them); filled with those drawn here.
   */
  references?: Map<string, RgbImage[]>;
  /** Progress: `done` of `total` (undefined when unknown) in a phase, with what is being done. */
  onProgress?: (phase: EvalPhase, done: number, total: number | undefined, detail?: string) => void;
}

export interface CaptionRow extends PromptMatches {
  split: "train" | "validation";
}

export interface EvalReport {
  settings: EvalSettings & { steps: number | string; evaluations: number };
  data: { source: string; pairs: number; train: number; validation: number; skipped: number };
  colour: ColourFigure;
  /** The caption probe (shapes-corpus words) at the same sampling settings. */
  probe: { figures: ProbeFigures; rows: ProbeRow[] };
  /** Whether the model uses each kind of caption word, without sampling (word-gain.ts). */
  wordGain: WordGain;
  captionMatch: { train: MatchFigure; validation: MatchFigure; rows: CaptionRow[] };
  validationLoss: ValidationLoss | null;
  /** The colour test's samples against the reference; null when off or for a stochastic sampler. */
  convergence: { sampler: string; steps: number; psnr: FigureSummary | null; images: number } | null;
  /**
   * RMS signature distance of each sample to its nearest training picture, and the held-out corpus
   * pictures' own (the scale: a realistic new picture's distance).
   */
  nearestDistance: { guided: FigureSummary | null; unguided: FigureSummary | null; heldOut: FigureSummary | null };
  secondsPerImage: { guided: number | null; unguided: number | null; all: number | null; images: number };
  goals: { colour: boolean; captionMatch: boolean; probe: boolean };
}

/** Issue #20's goals for the caption probe: colour ≥ 90 %, shape ≥ 80 %, place ≥ 75 %. */
export const PROBE_GOALS = { colour: 0.9, shape: 0.8, place: 0.75 } as const;

export function meetsProbeGoals(figures: ProbeFigures): boolean {
  return (
    figures.colour >= PROBE_GOALS.colour &&
    (figures.heldOutColour ?? 1) >= PROBE_GOALS.colour &&
    figures.shape >= PROBE_GOALS.shape &&
    (figures.place ?? 1) >= PROBE_GOALS.place
  );
}

/** Checks the model can be evaluated: a text2im network with a text encoder. */
export function checkEvalModel(model: GlideModel, label: string): void {
  if (model.variant !== "text2im") {
    throw new PipelineError(`${label}: glide eval needs a text2im model, got a ${model.variant} model`);
  }
  if (!model.textEncoder) throw new PipelineError(`${label}: the model has no text encoder (text_ctx 0)`);
}

export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const { model } = options;
  checkEvalModel(model, "model");
  // Bad sampling options fail now, not after the corpus has been read.
  samplerSpec(options.sampler, options.steps, model, "sampler");
  checkBatchSize(options.seeds);
  const size = model.config.image_size;
  const progress = options.onProgress ?? (() => {});

  if (!(Number.isInteger(options.referenceSteps) && options.referenceSteps >= 0)) {
    throw new PipelineError(`reference steps must be a non-negative integer, got ${options.referenceSteps}`);
  }
  if (options.referenceSteps > 0) samplerSpec(REFERENCE_SAMPLER, options.referenceSteps, model, "reference");
  const corpus =
    options.corpus ??
    (await indexCorpus(options.data, {
      resolution: size,
      validationFraction: options.validationFraction,
      keep: new Set(COLOUR_PROMPTS.map((c) => c.prompt)),
      onPair: (done, total) => progress("corpus", done, total),
    }));
  const pool = trainingSignatures(corpus);
  const distances = { guided: [] as number[], unguided: [] as number[] };
  const measure = (images: readonly RgbImage[], guided: boolean) => {
    for (const im of images) {
      const d = nearestDistance(pool, signature(imageToTensor(im), size));
      (guided ? distances.guided : distances.unguided).push(d);
    }
  };
  const pairs = corpus.captions.length;
  const validationPairs = corpus.splits.filter((s) => s === "validation").length;

  const clock = { guided: { seconds: 0, images: 0 }, unguided: { seconds: 0, images: 0 } };
  let resolvedSteps: { steps: number | string; evaluations: number } | null = null;
  const draw = async (prompt: string, guidance: number): Promise<RgbImage[]> => {
    const started = performance.now();
    const result = await textToImage({
      prompt,
      model,
      upsampler: null,
      sampler: options.sampler,
      steps: options.steps,
      guidanceScale: guidance,
      seed: options.seed,
      batchSize: options.seeds,
      session: options.session,
      precision: options.precision,
    });
    const kind = guidance === 1 ? clock.unguided : clock.guided;
    kind.seconds += (performance.now() - started) / 1000;
    kind.images += result.images.length;
    const base = result.settings.base!;
    resolvedSteps ??= { steps: base.steps, evaluations: base.evaluations };
    return result.images;
  };

  // 1. Colours.
  const colourRows = [];
  const colourSamples: RgbImage[][] = [];
  for (const [i, { prompt, colour }] of COLOUR_PROMPTS.entries()) {
    progress("colour", i, COLOUR_PROMPTS.length, prompt);
    const images = await draw(prompt, options.guidance);
    colourSamples.push(images);
    measure(images, options.guidance !== 1);
    colourRows.push(
      colourRow(
        prompt,
        colour,
        images.map((im) => dominantHue(im.data)),
        (corpus.kept.get(prompt) ?? []).map((im) => dominantHue(im.data)),
      ),
    );
  }
  progress("colour", COLOUR_PROMPTS.length, COLOUR_PROMPTS.length);
  const colour = colourFigure(colourRows);

  // 1a. The caption probe: colour, shape and place words of the shapes corpus.
  const probeRows: ProbeRow[] = [];
  for (const [i, prompt] of PROBE_PROMPTS.entries()) {
    progress("probe", i, PROBE_PROMPTS.length, prompt.prompt);
    const images = await draw(prompt.prompt, options.guidance);
    probeRows.push({ ...prompt, readings: images.map((im) => readShapeSample(im.data, im.width)) });
  }
  progress("probe", PROBE_PROMPTS.length, PROBE_PROMPTS.length);
  const probe = { figures: probeFigures(probeRows), rows: probeRows };

  // 1b. Word gain: the x₀ error with each kind of word right against swapped.
  progress("words", 0, 1);
  const words = await wordGain(model, { session: options.session });
  progress("words", 1, 1);

  // 1c. Convergence: the same prompts and seeds, drawn by the reference solver with many steps.
  const converged =
    options.referenceSteps > 0 && isDeterministic(options.sampler)
      ? await convergenceOf(options, colourSamples, (done, detail) =>
          progress("reference", done, COLOUR_PROMPTS.length, detail),
        )
      : null;

  // 2. Caption match: the held-out captions are those of validation pairs that no training pair has.
  const trainCaptions = captionsOf(corpus, "train");
  const prompts = {
    train: options.captions > 0 ? chooseCaptions(trainCaptions, options.captions) : [],
    validation:
      options.captions > 0
        ? chooseCaptions(captionsOf(corpus, "validation"), options.captions, new Set(trainCaptions))
        : [],
  };
  const counts = captionCounts(corpus.captions);
  const nearestCaption = (image: RgbImage) =>
    corpus.captions[nearest(corpus.signatures, signature(imageToTensor(image), size))]!;
  const rows: CaptionRow[] = [];
  const todo = prompts.train.length + prompts.validation.length;
  for (const split of ["train", "validation"] as const) {
    for (const prompt of prompts[split]) {
      progress("captions", rows.length, todo, prompt);
      const guidedImages = await draw(prompt, options.guidance);
      const unguidedImages = await draw(prompt, 1);
      measure(guidedImages, options.guidance !== 1);
      measure(unguidedImages, false);
      rows.push({
        split,
        prompt,
        guided: guidedImages.map(nearestCaption),
        unguided: unguidedImages.map(nearestCaption),
      });
    }
  }
  progress("captions", rows.length, todo);
  const figureOf = (split: "train" | "validation") =>
    matchFigure(
      rows.filter((r) => r.split === split),
      counts,
      pairs,
    );
  const captionMatch = { train: figureOf("train"), validation: figureOf("validation"), rows };

  // 3. The held-out loss.
  const loss = await validationLoss({
    model,
    data: options.data,
    validationFraction: options.validationFraction,
    pairs: options.validationPairs,
    available: validationPairs,
    session: options.session,
    onBatch: (done, total) => progress("validation", done, total),
  });

  const perImage = (c: { seconds: number; images: number }) => (c.images > 0 ? c.seconds / c.images : null);
  const all = {
    seconds: clock.guided.seconds + clock.unguided.seconds,
    images: clock.guided.images + clock.unguided.images,
  };
  const steps = resolvedSteps as { steps: number | string; evaluations: number } | null;
  return {
    settings: {
      seeds: options.seeds,
      seed: options.seed,
      guidance: options.guidance,
      sampler: options.sampler,
      steps: steps?.steps ?? options.steps ?? "default",
      evaluations: steps?.evaluations ?? 0,
      captions: options.captions,
      referenceSteps: options.referenceSteps,
      validationPairs: options.validationPairs,
      validationFraction: options.validationFraction,
      precision: checkPrecision(options.precision),
    },
    data: {
      source: corpus.source,
      pairs,
      train: pairs - validationPairs,
      validation: validationPairs,
      skipped: corpus.skipped,
    },
    colour,
    probe,
    wordGain: words,
    captionMatch,
    validationLoss: loss,
    convergence: converged,
    nearestDistance: {
      guided: summarize(distances.guided),
      unguided: summarize(distances.unguided),
      heldOut: summarize(heldOutDistances(corpus, pool)),
    },
    secondsPerImage: {
      guided: perImage(clock.guided),
      unguided: perImage(clock.unguided),
      all: perImage(all),
      images: all.images,
    },
    goals: {
      colour: colour.passed === colour.total,
      captionMatch: meetsMatchGoal(captionMatch.train),
      probe: meetsProbeGoals(probe.figures),
    },
  };
}

/** The colour test's samples against references (drawn here, or taken from options.references). */
async function convergenceOf(
  options: EvalOptions,
  samples: readonly RgbImage[][],
  progress: (done: number, detail?: string) => void,
): Promise<NonNullable<EvalReport["convergence"]>> {
  const steps = options.referenceSteps;
  const all: { sample: RgbImage[]; reference: RgbImage[] } = { sample: [], reference: [] };
  for (const [i, { prompt }] of COLOUR_PROMPTS.entries()) {
    progress(i, prompt);
    const key = JSON.stringify([prompt, options.seed, options.seeds, options.guidance, REFERENCE_SAMPLER, steps]);
    let reference = options.references?.get(key);
    if (!reference) {
      const result = await textToImage({
        prompt,
        model: options.model,
        upsampler: null,
        sampler: REFERENCE_SAMPLER,
        steps,
        guidanceScale: options.guidance,
        seed: options.seed,
        batchSize: options.seeds,
        session: options.session,
      });
      reference = result.images;
      options.references?.set(key, reference);
    }
    all.sample.push(...samples[i]!);
    all.reference.push(...reference);
  }
  progress(COLOUR_PROMPTS.length);
  return { sampler: REFERENCE_SAMPLER, steps, psnr: convergence(all.sample, all.reference), images: all.sample.length };
}
