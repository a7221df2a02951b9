// The training loop: dataset → batches → one training-step graph run per step → metrics, validation,
// samples, and atomic checkpoints from which a run resumes exactly where it stopped.

import { mkdir, readdir, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { DataPosition, Dataset } from "../data/dataset.ts";
import { openDataset } from "../data/open-dataset.ts";
import { DEFAULT_VALIDATION_FRACTION } from "../data/split.ts";
import { GlideError, throwIfCancelled } from "../errors.ts";
import { type GlideConfig, type GlideVariant, sameConfig, storedConfig, validateConfig } from "../glide/config.ts";
import { checkParameterCount, GlideModel, parameterShapes } from "../glide/model.ts";
import * as g from "../graph/index.ts";
import { checkFinite, checkStateDict } from "../io/check-state-dict.ts";
import { CheckpointError } from "../io/errors.ts";
import type { ParamValue } from "../nn/params.ts";
import type { HostArray, SessionOptions } from "../runtime/session.ts";
import { Rng, type RngState } from "../util/rng.ts";
import { checkPositive, checkPositiveInteger } from "../validate.ts";
import { type AdamWOptions, adamwOptionsOf } from "./adamw.ts";
import { assembleBatch, type TrainingExample } from "./batch.ts";
import { loadTrainingCheckpoint, saveTrainingCheckpoint, saveWeights } from "./checkpoint.ts";
import { TrainingError } from "./errors.ts";
import type { LossWeighting } from "./loss-weighting.ts";
import { type LearningRateSchedule, learningRate } from "./lr-schedule.ts";
import { MetricsLog } from "./metrics-log.ts";
import { buildTrainingGraph, frozenParamFeeds, type TrainingGraph, trainStepFor } from "./objective-graph.ts";
import type { TrainingState } from "./optimizer.ts";
import { isOtherLiveProcess, lockRunFolder, type RunLock } from "./run-lock.ts";
import { TrainingSession, type TrainingSessionOptions, trainingSessionOptionsOf } from "./training-session.ts";
import { buildValidationSet, LossEvaluator, type ValidationSet } from "./validation.ts";

export interface TrainOptions extends AdamWOptions, TrainingSessionOptions {
  /** A folder, a .jsonl manifest, or tar shards (see openDataset). */
  data: string | readonly string[];
  /** The run directory: checkpoint, EMA weights, config, metrics, samples. */
  outDir: string;
  config: GlideConfig;
  /** Starting weights (fine-tuning); without them, parameters are initialized from `seed`. */
  initialWeights?: ReadonlyMap<string, ParamValue>;
  variant?: GlideVariant;
  /** Total optimizer steps of the run (a resumed run continues up to this). */
  steps: number;
  /** Pairs per graph run (micro-batch). */
  batchSize: number;
  /** Micro-batches averaged per optimizer step. Default 1. */
  accumulate?: number;
  lr: number;
  warmupSteps?: number;
  /** After warmup: constant (default), or a cosine decay to 0 at `steps`. */
  lrSchedule?: LearningRateSchedule;
  captionDropout?: number;
  /** The weight of the ε loss per timestep (loss-weighting.ts); default uniform, as GLIDE. */
  lossWeighting?: LossWeighting;
  freezeTextEncoder?: boolean;
  seed?: number;
  saveEvery?: number;
  validateEvery?: number;
  /** Held-out share of the dataset (by key hash) and how many of those pairs to evaluate. */
  validationFraction?: number;
  validationPairs?: number;
  sampleEvery?: number;
  /** Continue from `outDir`'s checkpoint when there is one. */
  resume?: boolean;
  /**
   * Makes a sample grid with a model holding the current EMA weights (views of the training
   * buffers, valid during the call); the command line passes one built on the pipelines.
   */
  sample?: (model: GlideModel, step: number, path: string) => Promise<void>;
  /**
   * Measures caption following with a model holding the current EMA weights (like `sample`): its
   * figures are logged to metrics.jsonl as a `probe` row every `probeEvery` steps.
   */
  probe?: (model: GlideModel, step: number) => Promise<Record<string, number>>;
  probeEvery?: number;
  /** Super-res variants: train on random crops of this side (see TrainingGraphOptions.cropSize). */
  cropSize?: number;
  /** Called once before the first step, with the step the run starts from (0, or a resumed step). */
  onStart?: (startStep: number) => void;
  onStep?: (progress: StepProgress) => void;
  /** Checked after every step: when it returns true the run saves a checkpoint and stops. */
  shouldStop?: () => boolean;
  /**
   * Checked before and after every step: when aborted the run saves a checkpoint (a later run
   * resumes from it) and rejects with a CancelledError.
   */
  signal?: AbortSignal;
}

export interface StepProgress {
  step: number;
  steps: number;
  loss: number;
  imagesPerSecond: number;
  skippedImages: number;
  validationLoss?: number;
  /** The validation set's caption gain (text models), when this step validated. */
  captionGain?: number;
}

export interface TrainSummary {
  startStep: number;
  step: number;
  losses: number[];
  checkpoint: string;
  weights: string;
  skippedImages: number;
}

/** What a checkpoint holds beside the tensors, to resume exactly. */
interface RunMeta {
  step: number;
  rng: RngState;
  data: DataPosition;
  config: GlideConfig;
  variant: GlideVariant;
  batchSize: number;
  accumulate: number;
  seed: number;
  cropSize?: number;
}

export const RUN_FILES = {
  checkpoint: "checkpoint.safetensors",
  weights: "ema.safetensors",
  config: "config.json",
  metrics: "metrics.jsonl",
  samples: "samples",
} as const;

/**
 * Removes what a killed save left in the run folder: the temporary files that become the checkpoint,
 * the EMA weights or metrics.jsonl when renamed (a run killed mid-save leaves a full-size one each
 * time), and those of sample pictures. A checkpoint temp of a process that still runs (another run
 * writing to the same folder) is left to it.
 */
async function removeStaleTemps(outDir: string): Promise<void> {
  const names = [RUN_FILES.checkpoint, RUN_FILES.weights].map((f) => f.replaceAll(".", "\\."));
  const saves = new RegExp(`^\\.(?:${names.join("|")})\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  const metrics = `${RUN_FILES.metrics}.tmp`;
  for (const name of await readdir(outDir)) {
    const save = saves.exec(name);
    if ((save && !isOtherLiveProcess(Number(save[1]))) || name === metrics) {
      await rm(join(outDir, name), { force: true });
    }
  }
  const samples = join(outDir, RUN_FILES.samples);
  for (const name of await readdir(samples).catch(() => [])) {
    if (/^\.step-\d+\.png\.[0-9a-f]+\.tmp$/.test(name)) await rm(join(samples, name), { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Trains (or fine-tunes) a GLIDE model; see TrainOptions. What can be checked without the run
 * folder is checked before it is made, and a run that fails before it writes anything removes the
 * folders it made, so a mistake leaves nothing behind.
 */
export async function train(options: TrainOptions): Promise<TrainSummary> {
  const { batchSize, accumulate = 1 } = options;
  checkPositiveInteger(options.steps, "steps");
  checkPositiveInteger(batchSize, "batch size");
  checkPositiveInteger(accumulate, "accumulate");
  checkPositive(options.lr, "the learning rate");
  validateConfig(options.config);
  checkParameterCount(options.config);
  for (const source of [options.data].flat()) {
    if (!(await exists(source))) throw new GlideError(`the training data ${source} does not exist`);
  }
  if (options.initialWeights) checkFinite(options.initialWeights, "the starting weights");
  const samples = join(options.outDir, RUN_FILES.samples);
  const created = await mkdir(samples, { recursive: true });
  let lock: RunLock | null = null;
  try {
    lock = await lockRunFolder(options.outDir);
    return await trainInFolder(options);
  } catch (error) {
    await lock?.release();
    lock = null;
    if (created !== undefined) await removeEmptyFolders(samples, created);
    throw error;
  } finally {
    await lock?.release();
  }
}

/** Removes `from` and its parents up to `to` while each is empty (a folder that holds anything stays). */
async function removeEmptyFolders(from: string, to: string): Promise<void> {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    if (dir === resolve(to) || dirname(dir) === dir) return;
  }
}

// train() in phases, each given only the fields it uses: the run folder's files, the checkpoint to
// resume from, the model and its training session, the data, the validation set, the start of the
// run, the step loop (one step, then what is due at that step: validate, sample, probe, save), and
// the finish (the last save and the summary).

async function trainInFolder(options: TrainOptions): Promise<TrainSummary> {
  const { config, batchSize, accumulate = 1, seed = 0, cropSize } = options;
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const { optimizer: _, ...engine } = trainingSessionOptionsOf(options);
  const files = await openRunFolder(options.outDir);
  const resumed = await readResumePoint(files.checkpoint, {
    resume: options.resume,
    config,
    cropSize,
    batchSize,
    accumulate,
  });
  const built = await buildSession({
    config,
    seed,
    batchSize,
    cropSize,
    variant: options.variant,
    initialWeights: options.initialWeights,
    freezeTextEncoder: options.freezeTextEncoder,
    lossWeighting: options.lossWeighting,
    resumed,
    checkpointPath: files.checkpoint,
    adamw: adamwOptionsOf(options),
    session: trainingSessionOptionsOf(options),
  });
  const { session } = built;
  let validation: Validation | null = null;
  try {
    const rng = new Rng(seed);
    if (resumed) rng.setState(resumed.meta.rng);
    const data = await openTrainingData({
      data: options.data,
      resolution: config.image_size,
      seed,
      position: resumed?.meta.data,
      validationFraction,
      batchSize,
    });
    validation = await openValidation({
      data: options.data,
      resolution: config.image_size,
      validateEvery: options.validateEvery ?? 0,
      validationFraction,
      pairs: options.validationPairs ?? 4 * batchSize,
      seed,
      model: built.model,
      batchSize,
      variant: built.variant,
      cropSize,
      engine,
    });
    const startStep = await startRun({
      outDir: options.outDir,
      config,
      metrics: files.metrics,
      startStep: session.step,
      onStart: options.onStart,
    });
    const saver = checkpointSaver({
      files,
      session,
      frozen: built.frozen,
      shapes: built.shapes,
      startStep,
      meta: () => ({
        rng: rng.getState(),
        data: data.dataset.position(),
        config,
        variant: built.variant,
        batchSize,
        accumulate,
        seed,
        cropSize,
      }),
    });
    const losses = await stepLoop({
      session,
      step: {
        session,
        graph: built.graph,
        frozen: built.frozen,
        rng,
        batches: data.batches,
        accumulate,
        captionDropout: options.captionDropout,
        lr: { base: options.lr, warmupSteps: options.warmupSteps, schedule: options.lrSchedule, steps: options.steps },
        metrics: files.metrics,
        imagesPerStep: batchSize * accumulate,
      },
      due: {
        session,
        frozen: built.frozen,
        shapes: built.shapes,
        config,
        outDir: options.outDir,
        metrics: files.metrics,
        validation,
        validateEvery: options.validateEvery ?? 0,
        sample: options.sample,
        sampleEvery: options.sampleEvery ?? 0,
        probe: options.probe,
        probeEvery: options.probeEvery ?? 0,
      },
      steps: options.steps,
      saveEvery: options.saveEvery ?? 500,
      save: saver.save,
      skippedImages: () => data.dataset.skipped.count,
      onStep: options.onStep,
      shouldStop: options.shouldStop,
      signal: options.signal,
    });
    await finish({ session, saver, signal: options.signal });
    return {
      startStep,
      step: session.step,
      losses,
      checkpoint: files.checkpoint,
      weights: files.weights,
      skippedImages: data.dataset.skipped.count,
    };
  } finally {
    await session.release();
    await validation?.evaluator.release();
  }
}

interface RunFiles {
  checkpoint: string;
  weights: string;
  metrics: MetricsLog;
}

/** The run folder's files, with what a killed save left removed. */
async function openRunFolder(outDir: string): Promise<RunFiles> {
  await removeStaleTemps(outDir);
  return {
    checkpoint: join(outDir, RUN_FILES.checkpoint),
    weights: join(outDir, RUN_FILES.weights),
    metrics: new MetricsLog(join(outDir, RUN_FILES.metrics)),
  };
}

/** The checkpoint to resume from, when asked for and there is one; an error if it cannot continue this run. */
async function readResumePoint(
  path: string,
  request: { resume?: boolean } & ResumeCheck,
): Promise<{ state: TrainingState; meta: RunMeta } | null> {
  if (!request.resume || !(await exists(path))) return null;
  const { state, meta: stored } = await loadTrainingCheckpoint(path);
  const meta = stored as unknown as RunMeta; // what checkpointSaver wrote
  checkResumable(meta, request, path);
  return { state, meta };
}

/**
 * The model (from the checkpoint, the starting weights or `seed`), its training graph and the
 * training session on it, holding the checkpoint's optimizer state when resuming.
 */
async function buildSession(setup: {
  config: GlideConfig;
  seed: number;
  batchSize: number;
  cropSize?: number;
  variant?: GlideVariant;
  initialWeights?: ReadonlyMap<string, ParamValue>;
  freezeTextEncoder?: boolean;
  lossWeighting?: LossWeighting;
  resumed: { state: TrainingState } | null;
  checkpointPath: string;
  adamw: AdamWOptions;
  session: TrainingSessionOptions;
}) {
  const { config, resumed } = setup;
  // A checkpoint of the wrong shape is reported whole (every missing, unexpected, mis-shaped key).
  const shapes = parameterShapes(config);
  const start = resumed ? withShapes(resumed.state.params, shapes) : setup.initialWeights;
  if (start) checkStateDict(shapes, start, resumed ? setup.checkpointPath : "the starting weights");
  const model = new GlideModel(config, { stateDict: start, init: setup.seed });
  const variant = setup.variant ?? model.variant;
  const graph = buildTrainingGraph(model, {
    batch: setup.batchSize,
    variant,
    freezeTextEncoder: setup.freezeTextEncoder,
    cropSize: setup.cropSize,
    lossWeighting: setup.lossWeighting,
  });
  const plan = trainStepFor(graph, setup.adamw);
  const params = new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!] as const));
  // Resuming: the checkpoint's moments, EMA and step with the parameters the model was built from.
  const session = await TrainingSession.create(
    plan,
    resumed ? { ...resumed.state, params } : { params },
    setup.session,
  );
  return { model, variant, graph, session, frozen: frozenParamFeeds(graph), shapes };
}

/** The training split of the data, restored to the checkpoint's position, in batches. */
async function openTrainingData(source: {
  data: string | readonly string[];
  resolution: number;
  seed: number;
  position?: DataPosition;
  validationFraction: number;
  batchSize: number;
}) {
  const { validationFraction } = source;
  const dataset = await openDataset(source.data, {
    resolution: source.resolution,
    seed: source.seed,
    position: source.position,
    split: validationFraction > 0 ? { split: "train", validationFraction } : undefined,
  });
  return { dataset, batches: batchStream(dataset, source.batchSize) };
}

interface Validation {
  evaluator: LossEvaluator;
  set: ValidationSet;
}

/** The held-out pairs and the graph that scores them, when the run validates and holds any out. */
async function openValidation(setup: {
  data: string | readonly string[];
  resolution: number;
  validateEvery: number;
  validationFraction: number;
  pairs: number;
  seed: number;
  model: GlideModel;
  batchSize: number;
  variant: GlideVariant;
  cropSize?: number;
  engine: SessionOptions;
}): Promise<Validation | null> {
  const { validationFraction, batchSize } = setup;
  if (!(setup.validateEvery > 0 && validationFraction > 0)) return null;
  const held = await openDataset(setup.data, {
    resolution: setup.resolution,
    shuffle: false,
    epochs: 1,
    split: { split: "validation", validationFraction },
  });
  const graph = buildTrainingGraph(setup.model, {
    batch: batchSize,
    variant: setup.variant,
    dropout: false,
    cropSize: setup.cropSize,
  });
  const set = await buildValidationSet(graph, held, setup.pairs, setup.seed + 1);
  return set.pairs > 0 ? { evaluator: await LossEvaluator.create(graph, setup.engine), set } : null;
}

/** Writes config.json and forgets metrics rows after the start step; returns the start step. */
async function startRun(run: {
  outDir: string;
  config: GlideConfig;
  metrics: MetricsLog;
  startStep: number;
  onStart?: (startStep: number) => void;
}): Promise<number> {
  const configPath = join(run.outDir, RUN_FILES.config);
  await writeFile(configPath, `${JSON.stringify(run.config, null, 2)}\n`).catch((error: Error) => {
    throw new GlideError(`cannot write ${configPath}: ${error.message}`);
  });
  // Rows logged after the last checkpoint (or by a run killed before its first one) are redone.
  await run.metrics.truncateAfter(run.startStep);
  run.onStart?.(run.startStep);
  return run.startStep;
}

interface CheckpointSaver {
  save(): Promise<void>;
  /** The step of the last save (the start step before any). */
  lastSaved(): number;
}

/** Saves the checkpoint, then the EMA weights, of the session's current state. */
function checkpointSaver(run: {
  files: RunFiles;
  session: TrainingSession;
  frozen: Record<string, Float32Array>;
  shapes: ReadonlyMap<string, number[]>;
  startStep: number;
  /** The rest of what a resumed run needs, as of now. */
  meta: () => Omit<RunMeta, "step">;
}): CheckpointSaver {
  const { files, session, frozen, shapes } = run;
  let lastSaved = run.startStep;
  const save = async () => {
    // Frozen parameters are saved too, so both files hold whole models.
    const state = await session.state();
    const runMeta: RunMeta = { step: state.step, ...run.meta() };
    // Each file is written atomically, so a failure (a full disk) leaves the previous one whole.
    // The checkpoint goes first: it is what a resumed run starts from.
    const failed = (error: unknown) => {
      const last = lastSaved > 0 ? `holds step ${lastSaved}` : "was not written yet";
      return new CheckpointError(
        `could not save step ${state.step}: ${(error as Error).message}. Nothing was half-written (the ` +
          `checkpoint ${last}); free some disk space and run the same command again to resume.`,
      );
    };
    const whole = { ...state, params: mergeWeights(state.params, frozen) };
    await saveTrainingCheckpoint(files.checkpoint, whole, shapes, { ...runMeta }).catch((e) => {
      throw failed(e);
    });
    lastSaved = state.step;
    await saveWeights(files.weights, mergeWeights(state.ema ?? state.params, frozen), shapes, {
      config: JSON.stringify(runMeta.config),
      step: String(state.step),
    }).catch((e) => {
      throw failed(e);
    });
  };
  return { save, lastSaved: () => lastSaved };
}

/** Runs steps until `steps`, a stop or an abort; returns the losses of the steps it ran. */
async function stepLoop(loop: {
  session: TrainingSession;
  step: StepInputs;
  due: DueWork;
  steps: number;
  saveEvery: number;
  save: () => Promise<void>;
  skippedImages: () => number;
  onStep?: (progress: StepProgress) => void;
  shouldStop?: () => boolean;
  signal?: AbortSignal;
}): Promise<number[]> {
  const { session } = loop;
  const losses: number[] = [];
  while (session.step < loop.steps && !loop.signal?.aborted) {
    const { loss, imagesPerSecond } = await trainStep(loop.step);
    losses.push(loss);
    const step = session.step;
    const { validationLoss, captionGain } = await doDueWork(loop.due, step);
    loop.onStep?.({
      step,
      steps: loop.steps,
      loss,
      imagesPerSecond,
      skippedImages: loop.skippedImages(),
      validationLoss,
      captionGain,
    });
    if (step % loop.saveEvery === 0) await loop.save();
    if (loop.shouldStop?.() || loop.signal?.aborted) break;
  }
  return losses;
}

interface StepInputs {
  session: TrainingSession;
  graph: TrainingGraph;
  frozen: Record<string, Float32Array>;
  rng: Rng;
  batches: { next(): Promise<TrainingExample[]> };
  accumulate: number;
  captionDropout?: number;
  lr: { base: number; warmupSteps?: number; schedule?: LearningRateSchedule; steps: number };
  metrics: MetricsLog;
  imagesPerStep: number;
}

/** One optimizer step on `accumulate` fresh batches, logged to metrics.jsonl as a `train` row. */
async function trainStep(inputs: StepInputs): Promise<{ loss: number; imagesPerSecond: number }> {
  const { session, graph, rng } = inputs;
  const started = performance.now();
  const micro: Record<string, HostArray>[] = [];
  for (let k = 0; k < inputs.accumulate; k++) {
    const examples = await inputs.batches.next();
    micro.push({
      ...assembleBatch(graph, examples, rng, { captionDropout: inputs.captionDropout }).feeds,
      ...inputs.frozen,
    });
  }
  const lr = learningRate(session.step, inputs.lr.base, {
    warmupSteps: inputs.lr.warmupSteps,
    schedule: inputs.lr.schedule,
    totalSteps: inputs.lr.steps,
  });
  const result = await session.runAccumulated(micro, lr);
  if (!Number.isFinite(result.loss))
    throw new TrainingError(`the loss became ${result.loss} at step ${session.step}; lower the learning rate`);
  const seconds = (performance.now() - started) / 1000;
  const imagesPerSecond = inputs.imagesPerStep / seconds;
  await inputs.metrics.append({
    step: session.step,
    kind: "train",
    loss: result.loss,
    grad_norm: result.gradNorm,
    lr,
    images_per_s: imagesPerSecond,
  });
  return { loss: result.loss, imagesPerSecond };
}

interface DueWork {
  session: TrainingSession;
  frozen: Record<string, Float32Array>;
  shapes: ReadonlyMap<string, number[]>;
  config: GlideConfig;
  outDir: string;
  metrics: MetricsLog;
  validation: Validation | null;
  validateEvery: number;
  sample?: TrainOptions["sample"];
  sampleEvery: number;
  probe?: TrainOptions["probe"];
  probeEvery: number;
}

/** What is due after step `step`: validation, a sample grid, a probe (each every so many steps). */
async function doDueWork(due: DueWork, step: number): Promise<{ validationLoss?: number; captionGain?: number }> {
  const { session, frozen, validation } = due;
  const figures: { validationLoss?: number; captionGain?: number } = {};
  if (validation && step % due.validateEvery === 0) {
    const values = await validation.evaluator.evaluate(validation.set, { ...(await paramRecord(session)), ...frozen });
    figures.validationLoss = values.loss;
    figures.captionGain = values.caption_gain;
    await due.metrics.append({ step, kind: "validation", ...values, pairs: validation.set.pairs });
  }
  const emaModel = async () => {
    const state = await session.state();
    return new GlideModel(due.config, {
      stateDict: withShapes(mergeWeights(state.ema ?? state.params, frozen), due.shapes),
      keepsLowRes: true, // sampled as its exported weights will be (pipelines/load-model.ts)
    });
  };
  if (due.sample && due.sampleEvery > 0 && step % due.sampleEvery === 0) {
    const path = join(due.outDir, RUN_FILES.samples, `step-${String(step).padStart(6, "0")}.png`);
    await due.sample(await emaModel(), step, path);
  }
  if (due.probe && due.probeEvery > 0 && step % due.probeEvery === 0) {
    await due.metrics.append({ step, kind: "probe", ...(await due.probe(await emaModel(), step)) });
  }
  return figures;
}

/** Saves the steps since the last save, then rejects if the run was cancelled. */
async function finish(end: { session: TrainingSession; saver: CheckpointSaver; signal?: AbortSignal }): Promise<void> {
  if (end.session.step !== end.saver.lastSaved()) await end.saver.save();
  throwIfCancelled(end.signal, `training (stopped at step ${end.session.step}, saved)`);
}

/** The settings a checkpoint must share with the run that resumes it. */
interface ResumeCheck {
  config: GlideConfig;
  cropSize?: number;
  batchSize: number;
  accumulate: number;
}

function checkResumable(meta: RunMeta, options: ResumeCheck, path: string): void {
  const same = sameConfig(storedConfig(meta.config as unknown as Record<string, unknown>), options.config);
  if (!same)
    throw new CheckpointError(
      `${path}: the run was trained with another model configuration; use a new --out directory`,
    );
  if ((meta.cropSize ?? null) !== (options.cropSize ?? null)) {
    throw new CheckpointError(
      `${path}: the run trained on ${meta.cropSize ? `${meta.cropSize}-pixel crops` : "whole images"}; resume with the same crop setting`,
    );
  }
  if (meta.batchSize !== options.batchSize || meta.accumulate !== options.accumulate) {
    throw new CheckpointError(
      `${path}: the run used batch ${meta.batchSize} × ${meta.accumulate}; resume with the same batch size and accumulation`,
    );
  }
}

function withShapes(
  values: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, number[]>,
): Map<string, ParamValue> {
  return new Map([...values].map(([k, v]) => [k, { data: v, shape: shapes.get(k) ?? [v.length] }]));
}

async function paramRecord(session: TrainingSession): Promise<Record<string, Float32Array>> {
  return Object.fromEntries((await session.state()).params);
}

function mergeWeights(
  trained: ReadonlyMap<string, Float32Array>,
  frozen: Record<string, Float32Array>,
): Map<string, Float32Array> {
  return new Map([...Object.entries(frozen), ...trained]);
}

/** Groups the dataset's samples into batches of `size`. */
function batchStream(dataset: Dataset, size: number): { next(): Promise<TrainingExample[]> } {
  const iterator = dataset[Symbol.asyncIterator]();
  return {
    async next() {
      const examples: TrainingExample[] = [];
      while (examples.length < size) {
        const item = await iterator.next();
        if (item.done) throw new TrainingError(`the dataset ${dataset.source} ran out of pairs`);
        examples.push({ image: item.value.image, caption: item.value.caption });
      }
      return examples;
    },
  };
}
