// The CLIP text tower (the reference's TextEncoder): token and position embeddings over all
// max_text_len positions, blocks with causal attention, and the position text_len − 1 (the end
// token, or the last position of a truncated text) projected into the shared embedding space.
// Padding needs no mask: causal attention keeps it from reaching the position that is read.
import * as g from "../graph/index.ts";
import type { Scope } from "../nn/params.ts";
import type { ClipConfig } from "./config.ts";
import { ClipAffine, ClipLayerNorm } from "./layers.ts";
import { type ClipBlock, clipBlocks } from "./transformer.ts";

export class ClipTextEncoder {
  readonly width: number;
  private readonly wVoc: g.Tensor;
  private readonly wPos: g.Tensor;
  private readonly blocks: ClipBlock[];
  private readonly outputLn: ClipLayerNorm;
  private readonly outputProj: ClipAffine;

  constructor(
    root: Scope,
    private readonly config: ClipConfig,
  ) {
    const width = config.n_head_text * config.n_head_state_text;
    this.width = width;
    const input = root.child("blocks", "input");
    const normal = { kind: "normal", std: 0.02 } as const;
    this.wVoc = input.param("w_voc", [config.n_vocab, width], normal);
    this.wPos = input.param("w_pos", [config.max_text_len, width], normal);
    this.blocks = clipBlocks(root.child("blocks"), config.n_xf_blocks_text, width, config.n_head_text);
    const output = root.child("blocks", "output");
    this.outputLn = new ClipLayerNorm(output.child("ln"), width);
    this.outputProj = new ClipAffine(output.child("f"), width, config.n_embd, { bias: false });
  }

  /** tokens: int64 [N, max_text_len]; textLen: int64 [N] (start and end tokens included) → [N, n_embd]. */
  forward(tokens: g.Tensor, textLen: g.Tensor): g.Tensor {
    const [n, length] = tokens.shape as [number, number];
    if (tokens.dtype !== "int64" || tokens.rank !== 2 || length !== this.config.max_text_len) {
      throw new g.GraphError(
        `CLIP text tower: tokens must be int64 [N, ${this.config.max_text_len}], got ${tokens.dtype} ${g.formatShape(tokens.shape)}`,
      );
    }
    if (textLen.dtype !== "int64" || textLen.rank !== 1 || textLen.shape[0] !== n) {
      throw new g.GraphError(
        `CLIP text tower: text_len must be int64 [${n}], got ${textLen.dtype} ${g.formatShape(textLen.shape)}`,
      );
    }
    let h = g.add(g.gather(this.wVoc, tokens), this.wPos);
    for (const block of this.blocks) h = block.forward(h, true);
    // A one-hot row per text picks position text_len − 1 exactly (a product with 1 and 0s).
    const positions = g.constant(
      Float32Array.from({ length }, (_, i) => i + 1),
      [1, length],
    );
    const lengths = g.reshape(g.cast(textLen, "float32"), [n, 1]);
    const pick = g.reshape(g.cast(g.equal(positions, lengths), "float32"), [n, 1, length]);
    const last = g.reshape(g.matmul(pick, h), [n, this.width]);
    return this.outputProj.forward(this.outputLn.forward(last));
  }
}
