// The ADM U-Net of GLIDE (the reference's UNetModel as Text2ImUNet and its inpaint / super-res
// subclasses use it). Parameter names follow the reference modules: `time_embed.{0,2}`,
// `input_blocks.<i>.<j>`, `middle_block.{0,1,2}`, `output_blocks.<i>.<j>`, `out.{0,2}`.
import * as g from "../graph/index.ts";
import { AttentionBlock } from "../nn/attention.ts";
import type { DropoutNoise } from "../nn/dropout.ts";
import { Conv2d, GroupNorm32, Linear } from "../nn/layers.ts";
import type { Scope } from "../nn/params.ts";
import { pixelCoordinates } from "../nn/pixel-coordinates.ts";
import { Downsample, ResBlock, Upsample } from "../nn/resblock.ts";
import { timestepEmbedding } from "../nn/timestep-embedding.ts";
import { type GlideConfig, type UNetStructure, unetStructure } from "./config.ts";

/** What every layer of a block sequence sees besides its input. */
interface BlockContext {
  emb: g.Tensor;
  xfOut: g.Tensor | null;
  dropout: DropoutNoise | null;
}
/** One layer of a TimestepEmbedSequential. */
type Layer = (h: g.Tensor, ctx: BlockContext) => g.Tensor;

const runSequence = (layers: readonly Layer[], h: g.Tensor, ctx: BlockContext): g.Tensor =>
  layers.reduce((x, layer) => layer(x, ctx), h);

export interface UNetInputs {
  /** Noisy images [N, 3, H, W]. */
  x: g.Tensor;
  /** [N] timesteps (float32 or int64). */
  timesteps: g.Tensor;
  /** Text encoder outputs (models with text): [N, 4·num_channels] and [N, xf_width, text_ctx]. */
  xfProj?: g.Tensor | null;
  xfOut?: g.Tensor | null;
  /** Inpainting variants: the known image [N, 3, H, W] and its mask [N, 1, H, W] (1 = known). */
  inpaintImage?: g.Tensor | null;
  inpaintMask?: g.Tensor | null;
  /** Super-res variants: the low-resolution image [N, 3, h, w], resized bilinearly to H×W. */
  lowRes?: g.Tensor | null;
}

export class UNet {
  readonly structure: UNetStructure;
  readonly modelChannels: number;
  readonly hasText: boolean;
  /** Pixel coordinates join the input (config.coord_input). */
  private readonly coordInput: boolean;
  private readonly timeEmbed: [Linear, Linear];
  private readonly inputBlocks: Layer[][] = [];
  private readonly middleBlock: Layer[];
  private readonly outputBlocks: Layer[][] = [];
  private readonly outNorm: GroupNorm32;
  private readonly outConv: Conv2d;

  constructor(root: Scope, config: GlideConfig) {
    const s = unetStructure(config);
    this.structure = s;
    const mc = config.num_channels;
    this.modelChannels = mc;
    this.hasText = config.xf_width > 0;
    this.coordInput = config.coord_input;
    const embChannels = 4 * mc;
    const encoderChannels = this.hasText ? config.xf_width : null;
    const resOptions = {
      embChannels,
      dropout: config.dropout,
      useScaleShiftNorm: config.use_scale_shift_norm,
      coordShift: config.coord_shift,
    };

    this.timeEmbed = [
      new Linear(root.child("time_embed", 0), mc, embChannels),
      new Linear(root.child("time_embed", 2), embChannels, embChannels),
    ];

    const resBlock = (
      scope: Scope,
      channels: number,
      extra: { outChannels?: number; up?: boolean; down?: boolean } = {},
    ): Layer => {
      const block = new ResBlock(scope, channels, { ...resOptions, ...extra });
      return (h, ctx) => block.forward(h, ctx.emb, ctx.dropout);
    };
    const attention = (scope: Scope, channels: number, numHeads: number): Layer => {
      const block = new AttentionBlock(scope, channels, {
        numHeads,
        numHeadChannels: config.num_head_channels,
        encoderChannels,
      });
      return (h, ctx) => block.forward(h, ctx.xfOut);
    };

    // Encoder.
    const inputs = root.child("input_blocks");
    let ch = s.channelMult[0]! * mc;
    const firstConv = new Conv2d(inputs.child(0, 0), s.inChannels, ch, 3, { padding: 1 });
    this.inputBlocks.push([(h) => firstConv.forward(h)]);
    const skipChannels = [ch];
    let ds = 1;
    s.channelMult.forEach((mult, level) => {
      for (let r = 0; r < config.num_res_blocks; r++) {
        const scope = inputs.child(this.inputBlocks.length);
        const layers = [resBlock(scope.child(0), ch, { outChannels: mult * mc })];
        ch = mult * mc;
        if (s.attentionDs.includes(ds)) layers.push(attention(scope.child(1), ch, config.num_heads));
        this.inputBlocks.push(layers);
        skipChannels.push(ch);
      }
      if (level !== s.channelMult.length - 1) {
        const scope = inputs.child(this.inputBlocks.length, 0);
        if (config.resblock_updown) {
          this.inputBlocks.push([resBlock(scope, ch, { down: true })]);
        } else {
          const down = new Downsample(scope, ch, true);
          this.inputBlocks.push([(h) => down.forward(h)]);
        }
        skipChannels.push(ch);
        ds *= 2;
      }
    });

    const middle = root.child("middle_block");
    this.middleBlock = [
      resBlock(middle.child(0), ch),
      attention(middle.child(1), ch, config.num_heads),
      resBlock(middle.child(2), ch),
    ];

    // Decoder: each block takes the concatenation of the previous output and one skip.
    const outputs = root.child("output_blocks");
    [...s.channelMult.entries()].reverse().forEach(([level, mult]) => {
      for (let i = 0; i <= config.num_res_blocks; i++) {
        const scope = outputs.child(this.outputBlocks.length);
        const skip = skipChannels.pop()!;
        const layers = [resBlock(scope.child(0), ch + skip, { outChannels: mc * mult })];
        ch = mc * mult;
        if (s.attentionDs.includes(ds)) layers.push(attention(scope.child(1), ch, s.numHeadsUpsample));
        if (level > 0 && i === config.num_res_blocks) {
          const upScope = scope.child(layers.length);
          if (config.resblock_updown) {
            layers.push(resBlock(upScope, ch, { up: true }));
          } else {
            const up = new Upsample(upScope, ch, true);
            layers.push((h) => up.forward(h));
          }
          ds /= 2;
        }
        this.outputBlocks.push(layers);
      }
    });

    this.outNorm = new GroupNorm32(root.child("out", 0), ch, true);
    this.outConv = new Conv2d(root.child("out", 2), s.channelMult[0]! * mc, s.outChannels, 3, {
      padding: 1,
      zeroInit: true,
    });
  }

  /** The variant's network input: x with the inpainting and super-res channels concatenated, as the reference does. */
  private networkInput(inputs: UNetInputs): g.Tensor {
    const { x } = inputs;
    const [n, , height, width] = x.shape as [number, number, number, number];
    const parts = [x];
    const need = (t: g.Tensor | null | undefined, name: string, shape: string): g.Tensor => {
      if (!t) throw new g.GraphError(`U-Net (${this.structure.variant}): input '${name}' ${shape} is required`);
      return t;
    };
    if (this.structure.variant === "inpaint" || this.structure.variant === "super-res-inpaint") {
      const image = need(inputs.inpaintImage, "inpaint_image", `[${n}, 3, ${height}, ${width}]`);
      const mask = need(inputs.inpaintMask, "inpaint_mask", `[${n}, 1, ${height}, ${width}]`);
      parts.push(g.mul(image, mask), mask);
    }
    if (this.structure.variant === "super-res" || this.structure.variant === "super-res-inpaint") {
      const lowRes = need(inputs.lowRes, "low_res", `[${n}, 3, h, w]`);
      parts.push(g.resizeBilinear(lowRes, height, width));
    }
    if (this.coordInput) parts.push(g.expand(pixelCoordinates(height, width), [n, 2, height, width]));
    const h = g.concat(parts, 1);
    if (h.shape[1] !== this.structure.inChannels) {
      throw new g.GraphError(
        `U-Net (${this.structure.variant}): inputs give ${h.shape[1]} channels, the network takes ${this.structure.inChannels}`,
      );
    }
    return h;
  }

  /** Builds the forward graph: [N, 6, H, W] (eps, then the variance interpolation value). */
  forward(inputs: UNetInputs, dropout: DropoutNoise | null = null): g.Tensor {
    let emb = this.timeEmbed[1].forward(
      g.silu(this.timeEmbed[0].forward(timestepEmbedding(inputs.timesteps, this.modelChannels))),
    );
    let xfOut: g.Tensor | null = null;
    if (this.hasText) {
      if (!inputs.xfProj || !inputs.xfOut)
        throw new g.GraphError("U-Net: this model takes text; xf_proj and xf_out are required");
      emb = g.add(emb, inputs.xfProj);
      xfOut = inputs.xfOut;
    } else if (inputs.xfProj || inputs.xfOut) {
      throw new g.GraphError("U-Net: this model has no text encoder (xf_width 0) and takes no xf_proj / xf_out");
    }
    const ctx: BlockContext = { emb, xfOut, dropout };

    let h = this.networkInput(inputs);
    const skips: g.Tensor[] = [];
    for (const block of this.inputBlocks) {
      h = runSequence(block, h, ctx);
      skips.push(h);
    }
    h = runSequence(this.middleBlock, h, ctx);
    for (const block of this.outputBlocks) h = runSequence(block, g.concat([h, skips.pop()!], 1), ctx);
    return this.outConv.forward(this.outNorm.forward(h));
  }
}
