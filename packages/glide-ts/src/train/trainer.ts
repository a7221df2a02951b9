// The training loop: dataset → batches → one training-step graph run per step → metrics, validation,
// samples, and atomic checkpoints from which a run resumes exactly where it stopped.

import { mkdir, readdir, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { DataPosition, Dataset } from "../data/dataset.ts";
import { openDataset } from "../data/open-dataset.ts";
import { GlideError, throwIfCancelled } from "../errors.ts";
import { type GlideConfig, type GlideVariant, sameConfig, storedConfig, validateConfig } from "../glide/config.ts";
import { checkParameterCount, GlideModel, parameterShapes } from "../glide/model.ts";
import * as g from "../graph/index.ts";
import type { AdamWOptions } from "../graph/optim.ts";
import { checkFinite, checkStateDict } from "../io/check-state-dict.ts";
import { CheckpointError } from "../io/errors.ts";
import type { ParamValue } from "../nn/params.ts";
import type { HostArray } from "../runtime/session.ts";
import { TrainingSession, type TrainingSessionOptions } from "../runtime/training-session.ts";
import { Rng, type RngState } from "../util/rng.ts";
import { checkPositive, checkPositiveInteger } from "../validate.ts";
import { assembleBatch, type TrainingExample } from "./batch.ts";
import { loadTrainingCheckpoint, saveTrainingCheckpoint, saveWeights } from "./checkpoint.ts";
import { TrainingError } from "./errors.ts";
import type { LossWeighting } from "./loss-weighting.ts";
import { type LearningRateSchedule, learningRate } from "./lr-schedule.ts";
import { MetricsLog } from "./metrics-log.ts";
import { buildTrainingGraph, frozenParamFeeds, trainStepFor } from "./objective-graph.ts";
import { isOtherLiveProcess, lockRunFolder, type RunLock } from "./run-lock.ts";
import { buildValidationSet, LossEvaluator } from "./validation.ts";

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

async function trainInFolder(options: TrainOptions): Promise<TrainSummary> {
  const { config, batchSize, accumulate = 1, seed = 0, saveEvery = 500, validateEvery = 0, sampleEvery = 0 } = options;
  await removeStaleTemps(options.outDir);
  const paths = {
    checkpoint: join(options.outDir, RUN_FILES.checkpoint),
    weights: join(options.outDir, RUN_FILES.weights),
    metrics: new MetricsLog(join(options.outDir, RUN_FILES.metrics)),
  };

  // Resume: the checkpoint's tensors and generator/data state replace the fresh ones.
  const resumed =
    options.resume && (await exists(paths.checkpoint)) ? await loadTrainingCheckpoint(paths.checkpoint) : null;
  const meta = resumed?.meta as RunMeta | undefined;
  if (meta) checkResumable(meta, options, paths.checkpoint);

  // A checkpoint of the wrong shape is reported whole (every missing, unexpected, mis-shaped key).
  const expected = parameterShapes(config);
  const start = resumed ? withShapes(resumed.state.params, expected) : options.initialWeights;
  if (start) checkStateDict(expected, start, resumed ? paths.checkpoint : "the starting weights");
  const model = new GlideModel(config, { stateDict: start, init: seed });
  const variant = options.variant ?? model.variant;
  const { cropSize } = options;
  const graph = buildTrainingGraph(model, {
    batch: batchSize,
    variant,
    freezeTextEncoder: options.freezeTextEncoder,
    cropSize,
    lossWeighting: options.lossWeighting,
  });
  const plan = trainStepFor(graph, options);
  const initialParams = new Map(graph.params.map((p) => [g.paramAttrs(p).name, g.paramAttrs(p).value!] as const));
  const session = await TrainingSession.create(
    plan,
    resumed ? { ...resumed.state, params: initialParams } : { params: initialParams },
    options,
  );
  const frozen = frozenParamFeeds(graph);

  const rng = new Rng(seed);
  if (meta) rng.setState(meta.rng);
  const validationFraction = options.validationFraction ?? 0.02;
  const dataset = await openDataset(options.data, {
    resolution: config.image_size,
    seed,
    position: meta?.data,
    split: validationFraction > 0 ? { split: "train", validationFraction } : undefined,
  });
  const batches = batchStream(dataset, batchSize);

  let validation: { evaluator: LossEvaluator; set: Awaited<ReturnType<typeof buildValidationSet>> } | null = null;
  if (validateEvery > 0 && validationFraction > 0) {
    const held = await openDataset(options.data, {
      resolution: config.image_size,
      shuffle: false,
      epochs: 1,
      split: { split: "validation", validationFraction },
    });
    const validationGraph = buildTrainingGraph(model, { batch: batchSize, variant, dropout: false, cropSize });
    const set = await buildValidationSet(validationGraph, held, options.validationPairs ?? 4 * batchSize, seed + 1);
    if (set.pairs > 0) validation = { evaluator: await LossEvaluator.create(validationGraph, options), set };
  }

  const configPath = join(options.outDir, RUN_FILES.config);
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`).catch((error: Error) => {
    throw new GlideError(`cannot write ${configPath}: ${error.message}`);
  });
  const startStep = session.step;
  // Rows logged after the last checkpoint (or by a run killed before its first one) are redone.
  await paths.metrics.truncateAfter(startStep);
  options.onStart?.(startStep);

  let lastSaved = startStep;
  const save = async () => {
    // Frozen parameters are saved too, so both files hold whole models.
    const state = session.state();
    const runMeta: RunMeta = {
      step: state.step,
      rng: rng.getState(),
      data: dataset.position(),
      config,
      variant,
      batchSize,
      accumulate,
      seed,
      cropSize,
    };
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
    await saveTrainingCheckpoint(paths.checkpoint, whole, expected, { ...runMeta }).catch((e) => {
      throw failed(e);
    });
    lastSaved = state.step;
    await saveWeights(paths.weights, mergeWeights(state.ema ?? state.params, frozen), expected, {
      config: JSON.stringify(config),
      step: String(state.step),
    }).catch((e) => {
      throw failed(e);
    });
  };

  const losses: number[] = [];
  try {
    while (session.step < options.steps && !options.signal?.aborted) {
      const started = performance.now();
      const micro: Record<string, HostArray>[] = [];
      for (let k = 0; k < accumulate; k++) {
        const examples = await batches.next();
        micro.push({
          ...assembleBatch(graph, examples, rng, { captionDropout: options.captionDropout }).feeds,
          ...frozen,
        });
      }
      const lr = learningRate(session.step, options.lr, {
        warmupSteps: options.warmupSteps,
        schedule: options.lrSchedule,
        totalSteps: options.steps,
      });
      const result = await session.runAccumulated(micro, lr);
      if (!Number.isFinite(result.loss))
        throw new TrainingError(`the loss became ${result.loss} at step ${session.step}; lower the learning rate`);
      losses.push(result.loss);
      const seconds = (performance.now() - started) / 1000;
      const step = session.step;
      const record = {
        step,
        kind: "train" as const,
        loss: result.loss,
        grad_norm: result.gradNorm,
        lr,
        images_per_s: (batchSize * accumulate) / seconds,
      };
      await paths.metrics.append(record);
      let validationLoss: number | undefined;
      let captionGain: number | undefined;
      if (validation && step % validateEvery === 0) {
        const values = await validation.evaluator.evaluate(validation.set, { ...paramRecord(session), ...frozen });
        validationLoss = values.loss;
        captionGain = values.caption_gain;
        await paths.metrics.append({ step, kind: "validation", ...values, pairs: validation.set.pairs });
      }
      const emaModel = () => {
        const state = session.state();
        return new GlideModel(config, {
          stateDict: withShapes(mergeWeights(state.ema ?? state.params, frozen), expected),
        });
      };
      if (options.sample && sampleEvery > 0 && step % sampleEvery === 0) {
        const path = join(options.outDir, RUN_FILES.samples, `step-${String(step).padStart(6, "0")}.png`);
        await options.sample(emaModel(), step, path);
      }
      if (options.probe && (options.probeEvery ?? 0) > 0 && step % options.probeEvery! === 0) {
        await paths.metrics.append({ step, kind: "probe", ...(await options.probe(emaModel(), step)) });
      }
      options.onStep?.({
        step,
        steps: options.steps,
        loss: result.loss,
        imagesPerSecond: record.images_per_s,
        skippedImages: dataset.skipped.count,
        validationLoss,
        captionGain,
      });
      if (step % saveEvery === 0) await save();
      if (options.shouldStop?.() || options.signal?.aborted) break;
    }
    if (session.step !== lastSaved) await save();
    throwIfCancelled(options.signal, `training (stopped at step ${session.step}, saved)`);
  } finally {
    await session.release();
    await validation?.evaluator.release();
  }
  return {
    startStep,
    step: session.step,
    losses,
    checkpoint: paths.checkpoint,
    weights: paths.weights,
    skippedImages: dataset.skipped.count,
  };
}

function checkResumable(meta: RunMeta, options: TrainOptions, path: string): void {
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
  if (meta.batchSize !== options.batchSize || meta.accumulate !== (options.accumulate ?? 1)) {
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

function paramRecord(session: TrainingSession): Record<string, Float32Array> {
  return Object.fromEntries(session.state().params);
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
