// The noised CLIP's image tower (the reference's ImageEncoder with timesteps): the image taken to
// pixel scale and standardised with CLIP's channel statistics, cut into patches by a strided
// convolution, a timestep token `w_t[t]` in place of CLIP's class token, positions and a LayerNorm,
// blocks with full attention, and token 0 projected into the shared embedding space.
import * as g from "../graph/index.ts";
import type { Scope } from "../nn/params.ts";
import type { ClipConfig } from "./config.ts";
import { ClipAffine, ClipLayerNorm } from "./layers.ts";
import { type ClipBlock, clipBlocks } from "./transformer.ts";

/** The original CLIP's per-channel pixel mean and standard deviation (0…255 scale). */
export const CLIP_CHANNEL_MEANS = [122.77093945, 116.74601272, 104.09373519];
export const CLIP_CHANNEL_STDS = [68.50053285, 66.63215831, 70.32316309];

export class ClipImageEncoder {
  readonly width: number;
  private readonly wT: g.Tensor;
  private readonly patchProj: g.Tensor;
  private readonly wPos: g.Tensor;
  private readonly inputLn: ClipLayerNorm;
  private readonly blocks: ClipBlock[];
  private readonly outputLn: ClipLayerNorm;
  private readonly outputProj: ClipAffine;

  constructor(
    root: Scope,
    private readonly config: ClipConfig,
  ) {
    const width = config.n_head_image * config.n_head_state_image;
    this.width = width;
    const p = config.patch_size;
    const grid = config.image_size / p;
    const input = root.child("blocks", "input");
    const normal = { kind: "normal", std: 0.02 } as const;
    this.wT = input.param("w_t", [config.n_timesteps, width], normal);
    this.patchProj = input.param("patch_proj", [width, 3, p, p], normal);
    this.wPos = input.param("w_pos", [1 + grid * grid, width], normal);
    this.inputLn = new ClipLayerNorm(input.child("ln"), width);
    this.blocks = clipBlocks(root.child("blocks"), config.n_xf_blocks_image, width, config.n_head_image);
    const output = root.child("blocks", "output");
    this.outputLn = new ClipLayerNorm(output.child("ln"), width);
    this.outputProj = new ClipAffine(output.child("f"), width, config.n_embd, { bias: false });
  }

  /** x: [N, 3, S, S] in [−1, 1]; t: int64 [N], original timesteps → the raw embedding [N, n_embd]. */
  forward(x: g.Tensor, t: g.Tensor): g.Tensor {
    const n = x.shape[0]!;
    const size = this.config.image_size;
    if (x.rank !== 4 || x.shape[1] !== 3 || x.shape[2] !== size || x.shape[3] !== size) {
      throw new g.GraphError(`CLIP image tower: x must be [N, 3, ${size}, ${size}], got ${g.formatShape(x.shape)}`);
    }
    if (t.dtype !== "int64" || t.rank !== 1 || t.shape[0] !== n) {
      throw new g.GraphError(`CLIP image tower: t must be int64 [${n}], got ${t.dtype} ${g.formatShape(t.shape)}`);
    }
    const pixels = g.mul(g.add(x, 1), 127.5);
    const standardised = g.div(
      g.sub(pixels, g.constant(CLIP_CHANNEL_MEANS, [1, 3, 1, 1])),
      g.constant(CLIP_CHANNEL_STDS, [1, 3, 1, 1]),
    );
    const patches = g.conv2d(standardised, this.patchProj, null, { stride: this.config.patch_size });
    const tokens = g.transpose(g.reshape(patches, [n, this.width, -1]), [0, 2, 1]); // row-major patch grid
    const timestepToken = g.reshape(g.gather(this.wT, t), [n, 1, this.width]);
    let h = this.inputLn.forward(g.add(g.concat([timestepToken, tokens], 1), this.wPos));
    for (const block of this.blocks) h = block.forward(h, false);
    const first = g.reshape(g.slice(h, 1, 0, 1), [n, this.width]);
    return this.outputProj.forward(this.outputLn.forward(first));
  }
}
