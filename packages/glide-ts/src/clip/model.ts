// GLIDE's noised CLIP: the image tower and the text tower, each with its own parameters under the
// reference state_dict keys (as the released checkpoints hold them, one file per tower), and the
// graphs a guided run needs: text embeddings, image embeddings, and the guidance gradient — the
// gradient of exp(logit_scale) · Σ_i ⟨text_i, image(x_i, t_i)⟩ (normalised embeddings) with respect
// to x, built by the graph layer's autodiff, so one run of one graph gives it.
import * as g from "../graph/index.ts";
import { checkFinite, checkStateDict } from "../io/check-state-dict.ts";
import { type Initializer, ParamStore, type ParamValue } from "../nn/params.ts";
import { CompiledGraph, type SessionOptions } from "../runtime/session.ts";
import { storeWeights } from "../runtime/stored-weights.ts";
import { type ClipConfig, expLogitScale, validateClipConfig } from "./config.ts";
import { ClipError } from "./errors.ts";
import { ClipImageEncoder } from "./image-encoder.ts";
import { ClipTextEncoder } from "./text-encoder.ts";
import type { ClipTokenizer } from "./tokenizer.ts";

/** The two towers, as the reference names them (and prefixes their keys in a combined state_dict). */
export type ClipTower = "text_encoder" | "image_encoder";
export const CLIP_TOWERS: readonly ClipTower[] = ["text_encoder", "image_encoder"];

export interface ClipModelOptions {
  /** Each tower's parameter values by reference key (no tower prefix). */
  stateDicts?: Partial<Record<ClipTower, ReadonlyMap<string, ParamValue>>>;
  /** For parameters without a value: a seed, an initializer, or "none" (default: shapes only). */
  init?: number | Initializer | "none";
  /** CLIP's BPE tokenizer; needed to encode prompts. */
  tokenizer?: ClipTokenizer;
}

/** A graph with its named inputs and outputs. */
export interface ClipGraph {
  inputs: Record<string, g.Tensor>;
  outputs: Record<string, g.Tensor>;
}

/** z / (‖z‖₂ + 1e-12) over the last axis. */
export function normalizeEmbedding(z: g.Tensor): g.Tensor {
  return g.div(z, g.add(g.sqrt(g.sum(g.mul(z, z), -1, true)), 1e-12));
}

export class ClipModel {
  readonly textParams: ParamStore;
  readonly imageParams: ParamStore;
  readonly textEncoder: ClipTextEncoder;
  readonly imageEncoder: ClipImageEncoder;
  readonly tokenizer: ClipTokenizer | null;

  constructor(
    readonly config: ClipConfig,
    options: ClipModelOptions = {},
  ) {
    validateClipConfig(config);
    this.textParams = new ParamStore({ values: options.stateDicts?.text_encoder, init: options.init });
    this.imageParams = new ParamStore({ values: options.stateDicts?.image_encoder, init: options.init });
    this.textEncoder = new ClipTextEncoder(this.textParams.root(), config);
    this.imageEncoder = new ClipImageEncoder(this.imageParams.root(), config);
    this.tokenizer = options.tokenizer ?? null;
  }

  /**
   * A model holding each tower's tensors (not copied); missing, unexpected and mis-shaped keys are
   * reported in one StateDictMismatchError per tower, naming `labels[tower]`.
   */
  static fromStateDicts(
    config: ClipConfig,
    stateDicts: Record<ClipTower, ReadonlyMap<string, ParamValue>>,
    options: { labels?: Partial<Record<ClipTower, string>>; tokenizer?: ClipTokenizer } = {},
  ): ClipModel {
    const shapes = clipParameterShapes(config);
    for (const tower of CLIP_TOWERS) {
      checkStateDict(shapes[tower], stateDicts[tower], options.labels?.[tower] ?? `CLIP ${tower}`);
      checkFinite(stateDicts[tower], options.labels?.[tower] ?? `CLIP ${tower}`);
    }
    return new ClipModel(config, { stateDicts, tokenizer: options.tokenizer });
  }

  /** exp(logit_scale) as the reference computes it in float32. */
  get logitScale(): number {
    return expLogitScale(this.config);
  }

  /** Prompts as `tokens` (int64 [N, max_text_len]) and `text_len` (int64 [N]), the text graph's inputs. */
  encodePrompts(prompts: readonly string[]): { tokens: BigInt64Array; textLen: BigInt64Array } {
    if (!this.tokenizer) throw new ClipError("this CLIP model has no tokenizer: load it with its vocabulary");
    const length = this.config.max_text_len;
    const tokens = new BigInt64Array(prompts.length * length);
    const textLen = new BigInt64Array(prompts.length);
    prompts.forEach((prompt, i) => {
      const encoded = this.tokenizer!.tokenize(prompt, length);
      encoded.tokens.forEach((id, j) => {
        tokens[i * length + j] = BigInt(id);
      });
      textLen[i] = BigInt(encoded.textLen);
    });
    return { tokens, textLen };
  }

  /** Inputs `tokens`, `text_len`; outputs `text_emb` (raw) and `text_emb_norm`. */
  textGraph(batch: number): ClipGraph {
    const tokens = g.input("tokens", [batch, this.config.max_text_len], "int64");
    const textLen = g.input("text_len", [batch], "int64");
    const emb = this.textEncoder.forward(tokens, textLen);
    return {
      inputs: { tokens, text_len: textLen },
      outputs: { text_emb: emb, text_emb_norm: normalizeEmbedding(emb) },
    };
  }

  /** Inputs `x` [N, 3, S, S] in [−1, 1] and `t` (int64 [N], original timesteps); outputs `image_emb`, `image_emb_norm`. */
  imageGraph(batch: number): ClipGraph {
    const { x, t } = this.imageInputs(batch);
    const emb = this.imageEncoder.forward(x, t);
    return { inputs: { x, t }, outputs: { image_emb: emb, image_emb_norm: normalizeEmbedding(emb) } };
  }

  /**
   * Inputs `x`, `t` and `text_emb_norm` [N, n_embd] (image i is paired with text i); outputs
   * `objective` = exp(logit_scale) · Σ_i ⟨text_i, image_norm(x_i, t_i)⟩ and `grad` = ∂objective/∂x.
   */
  guidanceGraph(batch: number): ClipGraph {
    const { x, t } = this.imageInputs(batch);
    const text = g.input("text_emb_norm", [batch, this.config.n_embd]);
    const image = normalizeEmbedding(this.imageEncoder.forward(x, t));
    const objective = g.mul(g.sum(g.mul(text, image)), this.logitScale);
    const [grad] = g.gradients(objective, [x]);
    return { inputs: { x, t, text_emb_norm: text }, outputs: { objective, grad: grad! } };
  }

  compileText(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return compile(this.textParams, "text tower", this.textGraph(batch), session);
  }

  compileImage(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return compile(this.imageParams, "image tower", this.imageGraph(batch), session);
  }

  compileGuidance(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return compile(this.imageParams, "image tower", this.guidanceGraph(batch), session);
  }

  private imageInputs(batch: number): { x: g.Tensor; t: g.Tensor } {
    const size = this.config.image_size;
    return { x: g.input("x", [batch, 3, size, size]), t: g.input("t", [batch], "int64") };
  }
}

/** As GlideModel's sessions: the tower's weights move to the platform's weight files first (Node). */
function compile(params: ParamStore, what: string, graph: ClipGraph, session: SessionOptions): Promise<CompiledGraph> {
  const unset = params.unset();
  if (unset.length > 0) {
    throw new g.GraphError(
      `CLIP ${what}: ${unset.length} parameter(s) have no value (first: '${unset[0]}'); load a checkpoint or pass an init seed`,
    );
  }
  const options = { ...session, keepRunMemory: session.keepRunMemory ?? false, params: "initializers" as const };
  return storeWeights(params).then(() => CompiledGraph.compile(graph.outputs, options));
}

/** Each tower's parameter keys (no prefix) and shapes, in the reference state_dict order. */
export function clipParameterShapes(config: ClipConfig): Record<ClipTower, Map<string, number[]>> {
  const model = new ClipModel(config);
  return { text_encoder: model.textParams.shapes(), image_encoder: model.imageParams.shapes() };
}
