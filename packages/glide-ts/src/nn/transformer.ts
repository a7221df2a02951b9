// The text transformer of GLIDE (the reference's xf.py, adapted from CLIP): pre-LN residual
// blocks of multi-head self-attention and a GELU MLP. There is NO attention mask, causal or
// padding: every token attends to every token; padding is handled by the caller's embeddings.
import * as g from "../graph/index.ts";
import { LayerNorm, Linear } from "./layers.ts";
import type { Scope } from "./params.ts";

/**
 * Self-attention over packed projections, in the reference's token-major head layout: `qkv` is
 * [N, L, H·3·C] with, per head, C channels each of q, k, v. Scaling as the reference: q and k
 * each by C^(−1/4). Returns [N, L, H·C].
 */
export function multiheadSelfAttention(qkv: g.Tensor, heads: number): g.Tensor {
  const [n, length, width] = qkv.shape as [number, number, number];
  if (qkv.rank !== 3 || width % (3 * heads) !== 0) {
    throw new g.GraphError(`multiheadSelfAttention: ${g.formatShape(qkv.shape)} does not split into ${heads} heads`);
  }
  const ch = width / (3 * heads);
  const perHead = g.transpose(g.reshape(qkv, [n, length, heads, 3 * ch]), [0, 2, 1, 3]); // [N, H, L, 3C]
  const [q, k, v] = g.split(perHead, 3, [ch, ch, ch]) as [g.Tensor, g.Tensor, g.Tensor];
  const scale = 1 / Math.sqrt(Math.sqrt(ch));
  const weight = g.softmax(g.matmul(g.mul(q, scale), g.transposeLast(g.mul(k, scale)))); // [N, H, L, L]
  const out = g.matmul(weight, v); // [N, H, L, C]
  return g.reshape(g.transpose(out, [0, 2, 1, 3]), [n, length, heads * ch]);
}

/** c_qkv → attention → c_proj. */
class MultiheadAttention {
  private readonly cQkv: Linear;
  private readonly cProj: Linear;

  constructor(
    scope: Scope,
    width: number,
    private readonly heads: number,
  ) {
    this.cQkv = new Linear(scope.child("c_qkv"), width, 3 * width);
    this.cProj = new Linear(scope.child("c_proj"), width, width);
  }

  forward(x: g.Tensor): g.Tensor {
    return this.cProj.forward(multiheadSelfAttention(this.cQkv.forward(x), this.heads));
  }
}

/** c_fc (4× width) → GELU (exact erf form, torch's default) → c_proj. */
class Mlp {
  private readonly cFc: Linear;
  private readonly cProj: Linear;

  constructor(scope: Scope, width: number) {
    this.cFc = new Linear(scope.child("c_fc"), width, 4 * width);
    this.cProj = new Linear(scope.child("c_proj"), 4 * width, width);
  }

  forward(x: g.Tensor): g.Tensor {
    return this.cProj.forward(g.gelu(this.cFc.forward(x)));
  }
}

/** x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class ResidualAttentionBlock {
  private readonly attn: MultiheadAttention;
  private readonly ln1: LayerNorm;
  private readonly mlp: Mlp;
  private readonly ln2: LayerNorm;

  constructor(scope: Scope, width: number, heads: number) {
    if (width % heads !== 0)
      throw new g.GraphError(`transformer at '${scope.path}': width ${width} is not divisible by ${heads} heads`);
    // Declaration order = the reference's module order (attn, ln_1, mlp, ln_2).
    this.attn = new MultiheadAttention(scope.child("attn"), width, heads);
    this.ln1 = new LayerNorm(scope.child("ln_1"), width);
    this.mlp = new Mlp(scope.child("mlp"), width);
    this.ln2 = new LayerNorm(scope.child("ln_2"), width);
  }

  forward(x: g.Tensor): g.Tensor {
    x = g.add(x, this.attn.forward(this.ln1.forward(x)));
    return g.add(x, this.mlp.forward(this.ln2.forward(x)));
  }
}

/** `layers` residual attention blocks under `resblocks.<i>`; [N, L, width] → [N, L, width]. */
export class Transformer {
  private readonly blocks: ResidualAttentionBlock[];

  constructor(scope: Scope, width: number, layers: number, heads: number) {
    this.blocks = Array.from(
      { length: layers },
      (_, i) => new ResidualAttentionBlock(scope.child("resblocks", i), width, heads),
    );
  }

  forward(x: g.Tensor): g.Tensor {
    for (const block of this.blocks) x = block.forward(x);
    return x;
  }
}
