// Spatial self-attention of the ADM U-Net (the reference's AttentionBlock + QKVAttention), with
// optional text keys/values: the encoder's tokens are projected to per-head keys and values and
// placed BEFORE the image positions' own keys and values.
import * as g from "../graph/index.ts";
import { GroupNorm32, PointwiseConv1d } from "./layers.ts";
import type { Scope } from "./params.ts";

/**
 * QKV attention in the reference's channels-first head layout. `qkv` is [N, H·3·C, T]: per head,
 * C channels each of q, k, v (head-major). `encoderKv`, when given, is [N, H·2·C, S]: per head C
 * channels of keys then C of values. Both q and k are scaled by C^(−1/4) before the product (as the
 * reference does, for float16 stability). Returns [N, H·C, T].
 */
export function qkvAttention(qkv: g.Tensor, heads: number, encoderKv: g.Tensor | null = null): g.Tensor {
  const [n, width, length] = qkv.shape as [number, number, number];
  if (qkv.rank !== 3 || width % (3 * heads) !== 0) {
    throw new g.GraphError(`qkvAttention: ${g.formatShape(qkv.shape)} does not split into ${heads} heads of q, k, v`);
  }
  const ch = width / (3 * heads);
  let [q, k, v] = g.split(g.reshape(qkv, [n * heads, 3 * ch, length]), 1, [ch, ch, ch]) as [
    g.Tensor,
    g.Tensor,
    g.Tensor,
  ];
  if (encoderKv) {
    if (encoderKv.rank !== 3 || encoderKv.shape[0] !== n || encoderKv.shape[1] !== 2 * heads * ch) {
      throw new g.GraphError(
        `qkvAttention: encoder keys/values ${g.formatShape(encoderKv.shape)} should be [${n}, ${2 * heads * ch}, S]`,
      );
    }
    const [ek, ev] = g.split(g.reshape(encoderKv, [n * heads, 2 * ch, -1]), 1, [ch, ch]) as [g.Tensor, g.Tensor];
    k = g.concat([ek, k], 2);
    v = g.concat([ev, v], 2);
  }
  const scale = 1 / Math.sqrt(Math.sqrt(ch));
  // weight[b, t, s] = Σ_c q[b, c, t]·k[b, c, s]
  const weight = g.softmax(g.matmul(g.transpose(g.mul(q, scale), [0, 2, 1]), g.mul(k, scale)));
  // a[b, c, t] = Σ_s v[b, c, s]·weight[b, t, s]
  const a = g.matmul(v, g.transpose(weight, [0, 2, 1]));
  return g.reshape(a, [n, heads * ch, length]);
}

export interface AttentionBlockOptions {
  /** Heads, used when `numHeadChannels` is −1. */
  numHeads: number;
  /** Channels per head; −1 to use `numHeads` instead. */
  numHeadChannels: number;
  /** Width of the text encoder's output (adds `encoder_kv`), or null for plain self-attention. */
  encoderChannels: number | null;
}

/** GroupNorm → qkv (1×1) → attention (with text keys/values) → proj_out (zero-initialized) → residual. */
export class AttentionBlock {
  readonly heads: number;
  private readonly norm: GroupNorm32;
  private readonly qkv: PointwiseConv1d;
  private readonly encoderKv: PointwiseConv1d | null;
  private readonly projOut: PointwiseConv1d;

  constructor(
    scope: Scope,
    readonly channels: number,
    options: AttentionBlockOptions,
  ) {
    if (options.numHeadChannels === -1) {
      this.heads = options.numHeads;
    } else {
      if (channels % options.numHeadChannels !== 0) {
        throw new g.GraphError(
          `attention at '${scope.path}': ${channels} channels are not divisible by num_head_channels ${options.numHeadChannels}`,
        );
      }
      this.heads = channels / options.numHeadChannels;
    }
    if (!(this.heads >= 1 && channels % this.heads === 0)) {
      throw new g.GraphError(
        `attention at '${scope.path}': ${channels} channels do not split into ${this.heads} heads`,
      );
    }
    this.norm = new GroupNorm32(scope.child("norm"), channels);
    this.qkv = new PointwiseConv1d(scope.child("qkv"), channels, 3 * channels);
    this.encoderKv =
      options.encoderChannels === null
        ? null
        : new PointwiseConv1d(scope.child("encoder_kv"), options.encoderChannels, 2 * channels);
    this.projOut = new PointwiseConv1d(scope.child("proj_out"), channels, channels, { zeroInit: true });
  }

  /** x: [N, C, H, W]; encoderOut: [N, encoder channels, S] (required iff the block has `encoder_kv`). */
  forward(x: g.Tensor, encoderOut: g.Tensor | null): g.Tensor {
    const [n, c] = x.shape as [number, number];
    const flat = g.reshape(this.norm.forward(x), [n, c, -1]);
    const qkv = this.qkv.forward(flat);
    if ((encoderOut === null) !== (this.encoderKv === null)) {
      throw new g.GraphError(
        this.encoderKv
          ? "attention: this block attends to text, but no encoder output was given"
          : "attention: this block takes no encoder output",
      );
    }
    const h = qkvAttention(qkv, this.heads, encoderOut && this.encoderKv!.forward(encoderOut));
    return g.add(x, g.reshape(this.projOut.forward(h), x.shape));
  }
}
