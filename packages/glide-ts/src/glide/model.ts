// A whole GLIDE network: the U-Net and (unless xf_width is 0) the text encoder, with their
// parameters under the reference state_dict keys, in the reference order. The text encoder and the
// U-Net are separate graphs: the text graph runs once per prompt batch, and the U-Net graph, run at
// every sampling step, takes its outputs as inputs. Graph shapes are static: build one per batch size.
import * as g from "../graph/index.ts";
import { checkFinite, checkStateDict } from "../io/check-state-dict.ts";
import type { DropoutNoise } from "../nn/dropout.ts";
import { type Initializer, ParamStore, type ParamValue } from "../nn/params.ts";
import { CompiledGraph, type SessionOptions } from "../runtime/session.ts";
import { storeWeights } from "../runtime/stored-weights.ts";
import { type GlideConfig, GlideConfigError, type GlideVariant, MAX_PARAMETERS, validateConfig } from "./config.ts";
import { declareTextEmbeddings, TextEncoder } from "./text-encoder.ts";
import { UNet } from "./unet.ts";

export interface GlideModelOptions {
  /** Parameter values by reference key (a loaded checkpoint). Use `GlideModel.fromStateDict` to check it first. */
  stateDict?: ReadonlyMap<string, ParamValue>;
  /**
   * For parameters the state dict lacks: a seed (the deterministic `seededInitializer` with
   * PyTorch's default initializations), a custom initializer, or "none" (default: no value, shapes only).
   */
  init?: number | Initializer | "none";
  /**
   * Keep the parameter values in JavaScript memory when sessions are built. By default, where the
   * platform has weight files (Node), the first compile moves them there and lets go of the arrays:
   * onnxruntime reads the weights from the file, and the process holds them once instead of twice.
   */
  weightsInMemory?: boolean;
  /** The sampling settings measured best for these weights (a checkpoint's `sampling` metadata). */
  recommendedSampling?: RecommendedSampling | null;
  /**
   * A super-res model whose samples are kept consistent with their low-res input by default (every
   * x₀ projected so its block means are the input: diffusion/low-res-consistency.ts). True for
   * upsamplers trained by glide-ts; false for the released GLIDE upsampler, sampled as the reference does.
   */
  keepsLowRes?: boolean;
}

/**
 * Sampling settings chosen for a model by measuring it (`glide eval`'s caption-following figures):
 * text → image uses them for any setting the caller leaves out. Written into a checkpoint by
 * `glide convert --sampler/--steps/--guidance`; checked when read (pipelines/load-model.ts).
 */
export interface RecommendedSampling {
  sampler: string;
  steps: number;
  guidance: number;
}

/** A graph with its named inputs and outputs, ready for `CompiledGraph.compile(outputs, …)`. */
export interface BuiltGraph {
  inputs: Record<string, g.Tensor>;
  outputs: Record<string, g.Tensor>;
}

/** Rewrites a graph given by its named outputs into an equivalent one (same names and shapes). */
export type GraphRewrite = (outputs: Record<string, g.Tensor>) => Record<string, g.Tensor>;

export interface UNetGraphOptions {
  /** Training graphs: where dropout noise comes from (e.g. a FedDropoutNoise). Default: no dropout. */
  dropout?: DropoutNoise | null;
  /** Super-res variants: the low-resolution input's side (default image_size / 4, GLIDE's 64 → 256). */
  lowResSize?: number;
  /**
   * A rewrite of the U-Net's outputs before it is compiled (the int8 quantization:
   * `int8Rewrite` in int8/quantize-graph.ts). Default: none, the fp32 graph.
   */
  rewrite?: GraphRewrite | null;
}

export class GlideModel {
  readonly params: ParamStore;
  readonly unet: UNet;
  /** Null for a model without text (xf_width 0). */
  readonly textEncoder: TextEncoder | null;
  private readonly weightsInMemory: boolean;

  /** Null when the checkpoint recommends nothing (the pipelines' defaults apply). */
  readonly recommendedSampling: RecommendedSampling | null;
  readonly keepsLowRes: boolean;

  constructor(
    readonly config: GlideConfig,
    options: GlideModelOptions = {},
  ) {
    validateConfig(config);
    this.recommendedSampling = options.recommendedSampling ?? null;
    this.keepsLowRes = config.super_res === true && options.keepsLowRes === true;
    // Initializing allocates every parameter: a configuration too large to hold is refused first.
    if (options.init !== undefined && options.init !== "none") checkParameterCount(config);
    this.weightsInMemory = options.weightsInMemory ?? false;
    this.params = new ParamStore({ values: options.stateDict, init: options.init });
    const root = this.params.root();
    // Declaration order = the reference state_dict order: the top module's own parameters,
    // then the U-Net's submodules, then the text submodules.
    const embeddings = config.xf_width > 0 ? declareTextEmbeddings(root, config) : null;
    this.unet = new UNet(root, config);
    this.textEncoder = embeddings ? new TextEncoder(root, config, embeddings) : null;
  }

  /**
   * A model holding `stateDict`'s tensors (not copied). Missing, unexpected and mis-shaped keys are
   * all reported in one StateDictMismatchError naming `label`, except coord_shift weights, which are
   * zero when missing (see withZeroCoordShift).
   */
  static fromStateDict(
    config: GlideConfig,
    stateDict: ReadonlyMap<string, ParamValue>,
    label = "checkpoint",
    options: Omit<GlideModelOptions, "stateDict" | "init"> = {},
  ): GlideModel {
    const complete = withZeroCoordShift(config, stateDict);
    checkStateDict(parameterShapes(config), complete, label);
    checkFinite(complete, label);
    return new GlideModel(config, { ...options, stateDict: complete });
  }

  get variant(): GlideVariant {
    return this.unet.structure.variant;
  }

  /** Inputs `tokens` (int64 [N, text_ctx]) and, with xf_padding, `mask` (bool [N, text_ctx]); outputs `xf_proj`, `xf_out`. */
  textEncoderGraph(batch: number): BuiltGraph {
    const encoder = this.textEncoder;
    if (!encoder) throw new g.GraphError("this model has no text encoder (xf_width is 0)");
    const tokens = g.input("tokens", [batch, encoder.textCtx], "int64");
    const mask = encoder.usesMask ? g.input("mask", [batch, encoder.textCtx], "bool") : null;
    const { xfProj, xfOut } = encoder.forward(tokens, mask);
    return { inputs: mask ? { tokens, mask } : { tokens }, outputs: { xf_proj: xfProj, xf_out: xfOut } };
  }

  /**
   * Inputs `x` [N, 3, S, S], `timesteps` (float32 [N]), with text `xf_proj` and `xf_out` (the text
   * graph's outputs), for inpainting `inpaint_image` and `inpaint_mask`, for super-res `low_res`;
   * output `out` [N, 6, S, S]. With dropout noise, its inputs are added too (see FedDropoutNoise).
   */
  unetGraph(batch: number, options: UNetGraphOptions = {}): BuiltGraph {
    const c = this.config;
    const size = c.image_size;
    const inputs: Record<string, g.Tensor> = {
      x: g.input("x", [batch, 3, size, size]),
      timesteps: g.input("timesteps", [batch]),
    };
    if (this.textEncoder) {
      inputs.xf_proj = g.input("xf_proj", [batch, 4 * c.num_channels]);
      inputs.xf_out = g.input("xf_out", [batch, c.xf_width, c.text_ctx]);
    }
    if (c.inpaint) {
      inputs.inpaint_image = g.input("inpaint_image", [batch, 3, size, size]);
      inputs.inpaint_mask = g.input("inpaint_mask", [batch, 1, size, size]);
    }
    if (c.super_res) {
      const low = options.lowResSize ?? size / 4;
      if (!Number.isInteger(low) || low < 1)
        throw new g.GraphError(`low-res size must be a positive integer, got ${low}`);
      inputs.low_res = g.input("low_res", [batch, 3, low, low]);
    }
    const out = this.unet.forward(
      {
        x: inputs.x!,
        timesteps: inputs.timesteps!,
        xfProj: inputs.xf_proj,
        xfOut: inputs.xf_out,
        inpaintImage: inputs.inpaint_image,
        inpaintMask: inputs.inpaint_mask,
        lowRes: inputs.low_res,
      },
      options.dropout ?? null,
    );
    return { inputs, outputs: options.rewrite ? options.rewrite({ out }) : { out } };
  }

  /**
   * The text graph compiled with the parameters as initializers (every parameter needs a value).
   * Inference sessions free their working memory after each run unless `keepRunMemory` is set.
   */
  compileTextEncoder(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return this.compile(this.textEncoderGraph(batch), session);
  }

  /** The U-Net graph compiled with the parameters as initializers (every parameter needs a value). */
  compileUNet(batch: number, options: UNetGraphOptions & SessionOptions = {}): Promise<CompiledGraph> {
    return this.compile(this.unetGraph(batch, options), options);
  }

  /** Throws at once (not in the promise) when a parameter has no value. */
  private compile(graph: BuiltGraph, session: SessionOptions): Promise<CompiledGraph> {
    const unset = this.params.unset();
    if (unset.length > 0) {
      throw new g.GraphError(
        `${unset.length} parameter(s) have no value (first: '${unset[0]}'); load a state dict or pass an init seed`,
      );
    }
    const options = { ...session, keepRunMemory: session.keepRunMemory ?? false, params: "initializers" as const };
    if (this.weightsInMemory) return CompiledGraph.compile(graph.outputs, options);
    return storeWeights(this.params).then(() => CompiledGraph.compile(graph.outputs, options));
  }
}

/** Every parameter's reference key and shape, in the reference state_dict order (no values are made). */
export function parameterShapes(config: GlideConfig): Map<string, number[]> {
  return new GlideModel(config).params.shapes();
}

/** How many parameters a configuration implies (from the shapes alone: nothing is allocated). */
export function parameterCount(config: GlideConfig): number {
  let n = 0;
  for (const shape of parameterShapes(config).values()) n += g.numel(shape);
  return n;
}

/** Throws a GlideConfigError when a configuration implies more than MAX_PARAMETERS parameters. */
export function checkParameterCount(config: GlideConfig): void {
  const n = parameterCount(config);
  if (n > MAX_PARAMETERS) {
    throw new GlideConfigError(
      `the configuration implies ${(n / 1e9).toFixed(1)} billion parameters (${((n * 4) / 2 ** 30).toFixed(0)} GiB ` +
        `of float32); at most ${MAX_PARAMETERS / 1e9} billion are allowed`,
    );
  }
}

/**
 * coord_shift weights that a file lacks are zero, their initialization: a model trained without
 * coord_shift continues with it (e.g. `glide train --checkpoint FILE --config` adding the key)
 * computing exactly what it computed.
 */
function withZeroCoordShift(
  config: GlideConfig,
  stateDict: ReadonlyMap<string, ParamValue>,
): ReadonlyMap<string, ParamValue> {
  if (!config.coord_shift) return stateDict;
  let filled: Map<string, ParamValue> | null = null;
  for (const [name, shape] of parameterShapes(config)) {
    if (!name.includes(".coord_shift.") || stateDict.has(name)) continue;
    filled ??= new Map(stateDict);
    filled.set(name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  }
  return filled ?? stateDict;
}
