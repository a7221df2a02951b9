// The residual blocks both CLIP towers share (`blocks.block_<i>`): h + f_c(attn(ln(h))), then
// h + f_2(gelu(f_1(ln(h)))). Attention runs over the real tokens only: the reference pads to a
// multiple of 32 with masked keys and drops the padded queries, which gives the same values.
import * as g from "../graph/index.ts";
import type { Scope } from "../nn/params.ts";
import { ClipAffine, ClipLayerNorm } from "./layers.ts";

/** What the reference adds to the score of a key a query may not see. */
const MASKED_SCORE = -1e10;

/** [L, L]: 0 where key ≤ query, −1e10 above the diagonal. */
function causalMask(length: number): g.Tensor {
  const mask = new Float32Array(length * length);
  for (let q = 0; q < length; q++) for (let k = q + 1; k < length; k++) mask[q * length + k] = MASKED_SCORE;
  return g.constant(mask, [length, length]);
}

class ClipAttention {
  private readonly ln: ClipLayerNorm;
  private readonly fQ: ClipAffine;
  private readonly fK: ClipAffine;
  private readonly fV: ClipAffine;
  private readonly fC: ClipAffine;

  constructor(
    scope: Scope,
    width: number,
    private readonly heads: number,
  ) {
    // Declaration order = the reference state_dict order.
    this.ln = new ClipLayerNorm(scope.child("ln"), width);
    this.fQ = new ClipAffine(scope.child("f_q"), width, width, { bias: true });
    this.fK = new ClipAffine(scope.child("f_k"), width, width, { bias: false });
    this.fV = new ClipAffine(scope.child("f_v"), width, width, { bias: true });
    this.fC = new ClipAffine(scope.child("f_c"), width, width, { bias: true });
  }

  /** x: [N, L, W] → [N, L, W]; heads take contiguous channel slices. */
  forward(x: g.Tensor, causal: boolean): g.Tensor {
    const [n, length, width] = x.shape as [number, number, number];
    const state = width / this.heads;
    const h = this.ln.forward(x);
    const perHead = (t: g.Tensor, perm: number[]) => g.transpose(g.reshape(t, [n, length, this.heads, state]), perm);
    // q and k each scaled by n_head_state^(−1/4), as the reference does.
    const scale = 1 / Math.sqrt(Math.sqrt(state));
    const q = g.mul(perHead(this.fQ.forward(h), [0, 2, 1, 3]), scale); // [N, H, L, C]
    const k = g.mul(perHead(this.fK.forward(h), [0, 2, 3, 1]), scale); // [N, H, C, L]
    const v = perHead(this.fV.forward(h), [0, 2, 1, 3]); // [N, H, L, C]
    let scores = g.matmul(q, k); // [N, H, L, L]
    if (causal) scores = g.add(scores, causalMask(length));
    const out = g.matmul(g.softmax(scores), v);
    return this.fC.forward(g.reshape(g.transpose(out, [0, 2, 1, 3]), [n, length, width]));
  }
}

class ClipMlp {
  private readonly ln: ClipLayerNorm;
  private readonly f1: ClipAffine;
  private readonly f2: ClipAffine;

  constructor(scope: Scope, width: number) {
    this.ln = new ClipLayerNorm(scope.child("ln"), width);
    this.f1 = new ClipAffine(scope.child("f_1"), width, 4 * width, { bias: true });
    this.f2 = new ClipAffine(scope.child("f_2"), 4 * width, width, { bias: true });
  }

  forward(x: g.Tensor): g.Tensor {
    return this.f2.forward(g.gelu(this.f1.forward(this.ln.forward(x))));
  }
}

export class ClipBlock {
  private readonly attn: ClipAttention;
  private readonly mlp: ClipMlp;

  constructor(scope: Scope, width: number, heads: number) {
    this.attn = new ClipAttention(scope.child("f_attn"), width, heads);
    this.mlp = new ClipMlp(scope.child("f_mlp"), width);
  }

  forward(x: g.Tensor, causal: boolean): g.Tensor {
    const h = g.add(x, this.attn.forward(x, causal));
    return g.add(h, this.mlp.forward(h));
  }
}

/** `count` blocks under `<scope>.block_<i>`. */
export function clipBlocks(scope: Scope, count: number, width: number, heads: number): ClipBlock[] {
  return Array.from({ length: count }, (_, i) => new ClipBlock(scope.child(`block_${i}`), width, heads));
}
