// `glide eval`'s figures for one text2im model: the colour test, caption match on training and
// held-out captions, the validation loss and the seconds per image. Every sample is reproducible
// with `glide generate PROMPT --seed SEED -n SEEDS --no-upsample` and the same sampling options.
import type { GlideModel } from "../glide/model.ts";
import { imageToTensor, type RgbImage } from "../image/pixels.ts";
import { PipelineError } from "../pipelines/errors.ts";
import { checkBatchSize, samplerSpec } from "../pipelines/options.ts";
import { textToImage } from "../pipelines/text-to-image.ts";
import type { SessionOptions } from "../runtime/session.ts";
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
import { COLOUR_PROMPTS, type ColourFigure, colourFigure, colourRow, dominantHue } from "./colour.ts";
import { captionsOf, indexCorpus } from "./corpus-index.ts";
import { type ValidationLoss, validationLoss } from "./validation-loss.ts";

export interface EvalSettings {
  /** Samples per prompt (one batch from `seed`). */
  seeds: number;
  seed: number;
  guidance: number;
  sampler: string;
  /** A count or a respacing; undefined: the sampler's default. */
  steps?: number | string;
  /** Training and held-out captions for caption match, each. */
  captions: number;
  validationPairs: number;
  validationFraction: number;
}

export type EvalPhase = "corpus" | "colour" | "captions" | "validation";

export interface EvalOptions extends EvalSettings {
  model: GlideModel;
  /** A dataset `openDataset` reads (a .jsonl manifest as `glide data build` writes). */
  data: string;
  session?: SessionOptions;
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
  captionMatch: { train: MatchFigure; validation: MatchFigure; rows: CaptionRow[] };
  validationLoss: ValidationLoss | null;
  secondsPerImage: { guided: number | null; unguided: number | null; all: number | null; images: number };
  goals: { colour: boolean; captionMatch: boolean };
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

  const corpus = await indexCorpus(options.data, {
    resolution: size,
    validationFraction: options.validationFraction,
    keep: new Set(COLOUR_PROMPTS.map((c) => c.prompt)),
    onPair: (done, total) => progress("corpus", done, total),
  });
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
  for (const [i, { prompt, colour }] of COLOUR_PROMPTS.entries()) {
    progress("colour", i, COLOUR_PROMPTS.length, prompt);
    const images = await draw(prompt, options.guidance);
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

  // 2. Caption match: the held-out captions are those of validation pairs that no training pair has.
  const trainCaptions = captionsOf(corpus, "train");
  const prompts = {
    train: chooseCaptions(trainCaptions, options.captions),
    validation: chooseCaptions(captionsOf(corpus, "validation"), options.captions, new Set(trainCaptions)),
  };
  const counts = captionCounts(corpus.captions);
  const nearestCaption = (image: RgbImage) =>
    corpus.captions[nearest(corpus.signatures, signature(imageToTensor(image), size))]!;
  const rows: CaptionRow[] = [];
  const todo = prompts.train.length + prompts.validation.length;
  for (const split of ["train", "validation"] as const) {
    for (const prompt of prompts[split]) {
      progress("captions", rows.length, todo, prompt);
      const guided = (await draw(prompt, options.guidance)).map(nearestCaption);
      const unguided = (await draw(prompt, 1)).map(nearestCaption);
      rows.push({ split, prompt, guided, unguided });
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
      validationPairs: options.validationPairs,
      validationFraction: options.validationFraction,
    },
    data: {
      source: corpus.source,
      pairs,
      train: pairs - validationPairs,
      validation: validationPairs,
      skipped: corpus.skipped,
    },
    colour,
    captionMatch,
    validationLoss: loss,
    secondsPerImage: {
      guided: perImage(clock.guided),
      unguided: perImage(clock.unguided),
      all: perImage(all),
      images: all.images,
    },
    goals: { colour: colour.passed === colour.total, captionMatch: meetsMatchGoal(captionMatch.train) },
  };
}
