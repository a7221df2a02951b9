// GLIDE's text encoder (the reference's Text2ImUNet.get_text_emb): token + positional embedding,
// the padding embedding where the mask is false (xf_padding), the transformer, an optional final
// LayerNorm, and the projection of the LAST position to the U-Net's embedding width (or, with our
// xf_pool extensions, of the caption's last token ("token") or the mean of its tokens ("mean")).
import * as g from "../graph/index.ts";
import { Embedding, LayerNorm, Linear } from "../nn/layers.ts";
import type { Scope } from "../nn/params.ts";
import { Transformer } from "../nn/transformer.ts";
import { type GlideConfig, N_VOCAB, type XfPool } from "./config.ts";

/**
 * The encoder's own parameters `positional_embedding` and `padding_embedding`. They are plain
 * parameters of the reference's top module, so they come first in its state_dict, before the U-Net:
 * the model declares them separately to keep that order. The reference leaves them uninitialized
 * (th.empty); fresh models here draw them from N(0, 0.01²), as CLIP initializes its positional embedding.
 */
export interface TextEmbeddings {
  positional: g.Tensor;
  padding: g.Tensor | null;
}

export function declareTextEmbeddings(root: Scope, config: GlideConfig): TextEmbeddings {
  const shape = [config.text_ctx, config.xf_width];
  const init = { kind: "normal", std: 0.01 } as const;
  return {
    positional: root.param("positional_embedding", shape, init),
    padding: config.xf_padding ? root.param("padding_embedding", shape, init) : null,
  };
}

export interface TextEncoderOutputs {
  /** [N, 4·num_channels]: added to the timestep embedding. */
  xfProj: g.Tensor;
  /** [N, xf_width, text_ctx] (channels first, the reference's permute): keys/values of every attention block. */
  xfOut: g.Tensor;
}

export class TextEncoder {
  readonly textCtx: number;
  readonly width: number;
  private readonly transformer: Transformer;
  private readonly finalLn: LayerNorm | null;
  private readonly tokenEmbedding: Embedding;
  private readonly proj: Linear;
  private readonly pool: XfPool;

  constructor(
    root: Scope,
    config: GlideConfig,
    private readonly embeddings: TextEmbeddings,
  ) {
    this.textCtx = config.text_ctx;
    this.width = config.xf_width;
    this.transformer = new Transformer(root.child("transformer"), config.xf_width, config.xf_layers, config.xf_heads);
    this.finalLn = config.xf_final_ln ? new LayerNorm(root.child("final_ln"), config.xf_width) : null;
    this.tokenEmbedding = new Embedding(root.child("token_embedding"), N_VOCAB, config.xf_width);
    this.proj = new Linear(root.child("transformer_proj"), config.xf_width, 4 * config.num_channels);
    this.pool = config.xf_pool;
  }

  /** Whether `forward` needs the mask. */
  get usesMask(): boolean {
    return this.embeddings.padding !== null;
  }

  /** tokens: int64 [N, text_ctx]; mask: bool [N, text_ctx] (true = real token), required with xf_padding. */
  forward(tokens: g.Tensor, mask: g.Tensor | null): TextEncoderOutputs {
    const [n, length] = tokens.shape as [number, number];
    if (tokens.rank !== 2 || length !== this.textCtx || tokens.dtype !== "int64") {
      throw new g.GraphError(
        `text encoder: tokens must be int64 [N, ${this.textCtx}], got ${tokens.dtype} ${g.formatShape(tokens.shape)}`,
      );
    }
    let h = g.add(this.tokenEmbedding.forward(tokens), this.embeddings.positional);
    if (this.embeddings.padding) {
      const fits = mask?.dtype === "bool" && g.formatShape(mask.shape) === g.formatShape([n, length]);
      if (!mask || !fits) {
        throw new g.GraphError(`text encoder: xf_padding needs a bool mask [${n}, ${length}]`);
      }
      // Selected by a 0/1 float, not `where` on the bool: both sides are finite, so h·1 + pad·0 is h
      // exactly, and on WebGPU no boolean tensor goes to the CPU to be transposed and back.
      const real = g.reshape(g.cast(mask, "float32"), [n, length, 1]);
      h = g.add(g.mul(h, real), g.mul(this.embeddings.padding, g.sub(1, real)));
    }
    h = this.transformer.forward(h);
    if (this.finalLn) h = this.finalLn.forward(h);
    const pooled =
      this.pool === "position"
        ? g.reshape(g.slice(h, 1, length - 1, length), [n, this.width])
        : g.sum(g.mul(h, this.pool === "token" ? lastTokenWeights(mask!) : meanTokenWeights(mask!)), [1]);
    return { xfProj: this.proj.forward(pooled), xfOut: g.transpose(h, [0, 2, 1]) };
  }
}

/**
 * [N, ctx, 1] float: 1 at each caption's last token, 0 elsewhere; 1 at the last position for an
 * empty caption. Masks are a prefix of trues (captions fill the first positions), so the last token
 * is where mask[i] is true and mask[i + 1] is not.
 */
function lastTokenWeights(mask: g.Tensor): g.Tensor {
  const [n, length] = mask.shape as [number, number];
  const m = g.cast(mask, "float32");
  const next = g.padAxis(g.slice(m, 1, 1, length), 1, 0, 1);
  // At the last position: m[ctx−1] (a caption that fills the context) + 1 − m[0] (an empty one).
  const empty = g.padAxis(g.sub(1, g.slice(m, 1, 0, 1)), 1, length - 1, 0);
  return g.reshape(g.add(g.sub(m, g.mul(m, next)), empty), [n, length, 1]);
}

/**
 * [N, ctx, 1] float: 1/k at each of a caption's k tokens, so every word reaches the timestep
 * embedding directly (with "token", a colour word early in the caption reaches it only through
 * attention the small transformer learns late); 1 at the last position for an empty caption.
 */
function meanTokenWeights(mask: g.Tensor): g.Tensor {
  const [n, length] = mask.shape as [number, number];
  const m = g.cast(mask, "float32");
  const count = g.sum(m, [1], true);
  const empty = g.padAxis(g.sub(1, g.slice(m, 1, 0, 1)), 1, length - 1, 0);
  return g.reshape(g.add(g.div(m, g.maximum(count, 1)), empty), [n, length, 1]);
}
