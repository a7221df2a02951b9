// The whole training objective of a GLIDE model as one graph: text encoder → q_sample → U-Net →
// hybrid loss, for each of the four variants. All randomness (timesteps, noise, caption dropout,
// inpainting masks, dropout noise) enters as inputs, which `assembleBatch` (batch.ts) fills from one
// seeded generator. The result plugs into buildTrainStep: `trainStepFor(graph, adamw)`.
import { createDiffusion, type GaussianDiffusion } from "../diffusion/gaussian.ts";
import type { BetaScheduleName } from "../diffusion/schedule.ts";
import type { GlideVariant } from "../glide/config.ts";
import type { GlideModel } from "../glide/model.ts";
import * as g from "../graph/index.ts";
import { inputAttrs } from "../graph/ops/leaf.ts";
import { FedDropoutNoise } from "../nn/dropout.ts";
import type { AdamWOptions } from "./adamw.ts";
import { isUniform, type LossWeighting, lossWeights } from "./loss-weighting.ts";
import { type HybridLoss, hybridLoss, modelTimesteps, qSample, stepCoefficients } from "./objective.ts";
import { buildTrainStep, parametersOf, type TrainStepGraph } from "./step-graph.ts";

export interface TrainingGraphOptions {
  /** Samples per step (graphs have static shapes). */
  batch: number;
  /** The variant the caller expects; an error if the model is another. Default: the model's. */
  variant?: GlideVariant;
  /** The process to train on. Default: the model config's schedule with every step (no respacing). */
  diffusion?: GaussianDiffusion;
  /** Super-res variants: the low-resolution side (default image_size / 4). */
  lowResSize?: number;
  /**
   * Super-res variants: train on random square crops of this side (the U-Net is convolutional, so
   * the weights are those of the full-size model), with the low-res input taken from the crop; a
   * 64-pixel crop of a 128-pixel model costs a quarter of the full image. Default: the whole image.
   */
  cropSize?: number;
  /**
   * ResBlock dropout (probability: the config's `dropout`), its uniform noise fed as inputs
   * `dropout_noise.<block>`. Default true; it adds nothing when the config's dropout is 0.
   */
  dropout?: boolean;
  /** Leave the text encoder's parameters out of `params`, so an optimizer built on them keeps it fixed. */
  freezeTextEncoder?: boolean;
  /** The weight of the ε loss per timestep (loss-weighting.ts). Default uniform, as GLIDE. */
  lossWeighting?: LossWeighting;
}

/** Names of the graph inputs (feeds) a training graph may take. */
export const TRAINING_INPUTS = {
  xStart: "x_start",
  timesteps: "timesteps",
  noise: "noise",
  tokens: "tokens",
  mask: "mask",
  inpaintMask: "inpaint_mask",
  lowRes: "low_res",
} as const;

export interface TrainingGraph {
  variant: GlideVariant;
  batch: number;
  /** The side of the images the graph takes (the crop side when cropping). */
  imageSize: number;
  /** The side of the training images (the model's image_size); larger than imageSize when cropping. */
  sourceSize: number;
  /** Super-res variants: the side of `low_res`; null otherwise. */
  lowResSize: number | null;
  /** Models with text: tokens per caption; null without a text encoder. */
  textCtx: number | null;
  /** Whether the text encoder takes `mask` (xf_padding). */
  usesTextMask: boolean;
  diffusion: GaussianDiffusion;
  /**
   * Every input by feed name: `x_start` [N,3,S,S], `timesteps` (int64 [N]), `noise` [N,3,S,S]; with
   * text `tokens` (int64 [N,ctx]) and `mask` (bool [N,ctx]); inpainting `inpaint_mask` [N,1,S,S]
   * (1 = known; the known image is x_start itself); super-res `low_res` [N,3,s,s].
   */
  inputs: Record<string, g.Tensor>;
  /** The ResBlock dropout inputs (uniform [0, 1) noise), also listed in `inputs`. */
  dropoutInputs: g.Tensor[];
  /** The scalar to minimize: the batch mean of the hybrid loss. */
  loss: g.Tensor;
  /** Per-sample terms [N]. */
  perSample: Omit<HybridLoss, "meanLoss">;
  /** The parameters to train (all, or all but the text encoder's), in the model's declaration order. */
  params: g.Tensor[];
  /** Parameters the loss depends on that are left out of `params`. */
  frozen: g.Tensor[];
}

/** The process a config names, with every step: what GLIDE trains on. */
export function trainingDiffusion(model: GlideModel): GaussianDiffusion {
  return createDiffusion({
    noiseSchedule: model.config.noise_schedule as BetaScheduleName,
    diffusionSteps: model.config.diffusion_steps,
  });
}

/** Builds the training objective of `model` for a batch (see TrainingGraph for its inputs). */
export function buildTrainingGraph(model: GlideModel, options: TrainingGraphOptions): TrainingGraph {
  const { batch } = options;
  if (!Number.isInteger(batch) || batch < 1) throw new g.GraphError(`batch must be a positive integer, got ${batch}`);
  const variant = model.variant;
  if (options.variant !== undefined && options.variant !== variant) {
    throw new g.GraphError(`the model is a ${variant} model, not ${options.variant}`);
  }
  const config = model.config;
  const size = options.cropSize ?? config.image_size;
  if (options.cropSize !== undefined) {
    const crop = options.cropSize;
    if (!config.super_res) throw new g.GraphError("cropped training is for the super-res variants only");
    const factor = config.image_size / (options.lowResSize ?? config.image_size / 4);
    if (!Number.isInteger(crop) || crop < 8 || crop > config.image_size || crop % factor !== 0 || crop % 8 !== 0) {
      throw new g.GraphError(
        `crop size must be a multiple of 8 and of the upsampling factor ${factor}, at most ${config.image_size}; got ${crop}`,
      );
    }
  }
  const diffusion = options.diffusion ?? trainingDiffusion(model);
  const names = TRAINING_INPUTS;
  const inputs: Record<string, g.Tensor> = {
    [names.xStart]: g.input(names.xStart, [batch, 3, size, size]),
    [names.timesteps]: g.input(names.timesteps, [batch], "int64"),
    [names.noise]: g.input(names.noise, [batch, 3, size, size]),
  };
  const xStart = inputs[names.xStart]!;
  const timesteps = inputs[names.timesteps]!;
  const noise = inputs[names.noise]!;

  let text: { xfProj: g.Tensor; xfOut: g.Tensor } | null = null;
  const encoder = model.textEncoder;
  if (encoder) {
    const tokens = g.input(names.tokens, [batch, encoder.textCtx], "int64");
    const mask = encoder.usesMask ? g.input(names.mask, [batch, encoder.textCtx], "bool") : null;
    inputs[names.tokens] = tokens;
    if (mask) inputs[names.mask] = mask;
    text = encoder.forward(tokens, mask);
  }

  let inpaintMask: g.Tensor | null = null;
  if (config.inpaint) {
    inpaintMask = g.input(names.inpaintMask, [batch, 1, size, size]);
    inputs[names.inpaintMask] = inpaintMask;
  }
  let lowRes: g.Tensor | null = null;
  let lowResSize: number | null = null;
  if (config.super_res) {
    lowResSize = ((options.lowResSize ?? config.image_size / 4) * size) / config.image_size;
    if (!Number.isInteger(lowResSize) || lowResSize < 1) {
      throw new g.GraphError(`low-res size must be a positive integer, got ${lowResSize}`);
    }
    lowRes = g.input(names.lowRes, [batch, 3, lowResSize, lowResSize]);
    inputs[names.lowRes] = lowRes;
  }

  const coefficients = stepCoefficients(diffusion, timesteps);
  const xT = qSample(xStart, noise, coefficients);
  const dropout = options.dropout === false ? null : new FedDropoutNoise();
  const modelOutput = model.unet.forward(
    {
      x: xT,
      timesteps: modelTimesteps(diffusion, timesteps),
      xfProj: text?.xfProj,
      xfOut: text?.xfOut,
      // The model masks the known image itself (image · mask); the known image is the clean one.
      inpaintImage: inpaintMask ? xStart : null,
      inpaintMask,
      lowRes,
    },
    dropout,
  );
  const dropoutInputs = dropout?.inputs ?? [];
  for (const t of dropoutInputs) inputs[inputAttrs(t).name] = t;

  // The loss covers the whole image for the inpainting variants too, as training_losses does: the
  // known region is cheap to predict (it is an input), and GLIDE's paper names no masked loss.
  const mseWeights = isUniform(options.lossWeighting)
    ? undefined
    : g.gather(
        g.constant(Float32Array.from(lossWeights(diffusion.alphasCumprod, options.lossWeighting!)), [
          diffusion.numTimesteps,
        ]),
        timesteps,
      );
  const { meanLoss, ...perSample } = hybridLoss({
    xStart,
    noise,
    xT,
    timesteps,
    modelOutput,
    coefficients,
    mseWeights,
  });
  const used = new Set(parametersOf(meanLoss).map((p) => p.id));
  const textParams = new Set(text ? [...parametersOf(text.xfProj), ...parametersOf(text.xfOut)].map((p) => p.id) : []);
  const all = [...model.params.params.values()].filter((p) => used.has(p.id));
  const isFrozen = (p: g.Tensor) => options.freezeTextEncoder === true && textParams.has(p.id);
  return {
    variant,
    batch,
    imageSize: size,
    sourceSize: config.image_size,
    lowResSize,
    textCtx: encoder?.textCtx ?? null,
    usesTextMask: encoder?.usesMask ?? false,
    diffusion,
    inputs,
    dropoutInputs,
    loss: meanLoss,
    perSample,
    params: all.filter((p) => !isFrozen(p)),
    frozen: all.filter(isFrozen),
  };
}

/**
 * The current values of the frozen parameters, by name. A step graph exported with parameters as
 * inputs takes them too: feed these with every step's data (they are not copied).
 */
export function frozenParamFeeds(graph: TrainingGraph): Record<string, Float32Array> {
  const feeds: Record<string, Float32Array> = {};
  for (const p of graph.frozen) {
    const { name, value } = g.paramAttrs(p);
    if (!value)
      throw new g.GraphError(`frozen parameter '${name}' has no value; load a state dict or pass an init seed`);
    feeds[name] = value;
  }
  return feeds;
}

/**
 * The optimizer step for a training graph: AdamW (and clipping, EMA) on its `params`, with the
 * per-sample terms as extra outputs `mse`, `vb` and `sample_loss`.
 */
export function trainStepFor(graph: TrainingGraph, options: AdamWOptions = {}): TrainStepGraph {
  return buildTrainStep(graph.loss, {
    ...options,
    params: graph.params,
    extraOutputs: { mse: graph.perSample.mse, vb: graph.perSample.vb, sample_loss: graph.perSample.loss },
  });
}
