// The ADM U-Net's residual block and its plain resampling layers (the reference's ResBlock,
// Upsample, Downsample), with the reference's Sequential indices in the parameter names:
// in_layers = [GroupNorm+SiLU, Identity, Conv3×3], emb_layers = [SiLU, Linear],
// out_layers = [GroupNorm, SiLU or Identity, Dropout, Conv3×3 (zero-initialized)].
import * as g from "../graph/index.ts";
import type { DropoutNoise } from "./dropout.ts";
import { Conv2d, GroupNorm32, Linear } from "./layers.ts";
import type { Scope } from "./params.ts";
import { pixelCoordinates } from "./pixel-coordinates.ts";

/** Nearest-neighbour 2× upsampling, optionally followed by a 3×3 conv (`conv`). */
export class Upsample {
  private readonly conv: Conv2d | null;

  constructor(scope: Scope, channels: number, useConv: boolean, outChannels = channels) {
    if (!useConv && outChannels !== channels)
      throw new g.GraphError(`Upsample at '${scope.path}': changing channels needs a conv`);
    this.conv = useConv ? new Conv2d(scope.child("conv"), channels, outChannels, 3, { padding: 1 }) : null;
  }

  forward(x: g.Tensor): g.Tensor {
    const up = g.upsampleNearest2x(x);
    return this.conv ? this.conv.forward(up) : up;
  }
}

/** 2× downsampling: a strided 3×3 conv (`op`) or 2×2 average pooling. */
export class Downsample {
  private readonly op: Conv2d | null;

  constructor(scope: Scope, channels: number, useConv: boolean, outChannels = channels) {
    if (!useConv && outChannels !== channels)
      throw new g.GraphError(`Downsample at '${scope.path}': changing channels needs a conv`);
    this.op = useConv ? new Conv2d(scope.child("op"), channels, outChannels, 3, { stride: 2, padding: 1 }) : null;
  }

  forward(x: g.Tensor): g.Tensor {
    return this.op ? this.op.forward(x) : g.avgPool2x2(x);
  }
}

export interface ResBlockOptions {
  /** Width of the timestep embedding. */
  embChannels: number;
  /** Output channels (default: the input's). */
  outChannels?: number;
  dropout: number;
  /** FiLM conditioning: norm(h)·(1 + scale) + shift instead of h + emb before the norm. */
  useScaleShiftNorm: boolean;
  /** Resample inside the block (the reference's resblock_updown). */
  up?: boolean;
  down?: boolean;
  /**
   * Also shift each output channel by (a·x + b·y), x and y the pixel's coordinates (−1 … 1) and a, b
   * read from the embedding by `coord_shift` (zero-initialized): config.coord_shift, our extension.
   */
  coordShift?: boolean;
}

export class ResBlock {
  readonly outChannels: number;
  private readonly site: string;
  private readonly dropout: number;
  private readonly useScaleShiftNorm: boolean;
  private readonly resample: ((x: g.Tensor) => g.Tensor) | null;
  private readonly inNorm: GroupNorm32;
  private readonly inConv: Conv2d;
  private readonly embLinear: Linear;
  private readonly coordShift: Linear | null;
  private readonly outNorm: GroupNorm32;
  private readonly outConv: Conv2d;
  private readonly skip: Conv2d | null;

  constructor(
    scope: Scope,
    readonly channels: number,
    options: ResBlockOptions,
  ) {
    const out = options.outChannels ?? channels;
    this.outChannels = out;
    this.site = scope.path;
    this.dropout = options.dropout;
    this.useScaleShiftNorm = options.useScaleShiftNorm;
    if (options.up && options.down) throw new g.GraphError(`ResBlock at '${scope.path}': both up and down`);
    this.resample = options.up ? g.upsampleNearest2x : options.down ? g.avgPool2x2 : null;

    this.inNorm = new GroupNorm32(scope.child("in_layers", 0), channels, true);
    this.inConv = new Conv2d(scope.child("in_layers", 2), channels, out, 3, { padding: 1 });
    this.embLinear = new Linear(
      scope.child("emb_layers", 1),
      options.embChannels,
      this.useScaleShiftNorm ? 2 * out : out,
    );
    this.coordShift = options.coordShift
      ? new Linear(scope.child("coord_shift"), options.embChannels, 2 * out, { zeroInit: true })
      : null;
    // With scale-shift norm the SiLU is a separate layer after the FiLM; otherwise it is fused in the norm.
    this.outNorm = new GroupNorm32(scope.child("out_layers", 0), out, !this.useScaleShiftNorm);
    this.outConv = new Conv2d(scope.child("out_layers", 3), out, out, 3, { padding: 1, zeroInit: true });
    this.skip = out === channels ? null : new Conv2d(scope.child("skip_connection"), channels, out, 1);
  }

  /** x: [N, C, H, W]; emb: [N, embChannels]; dropout noise only while training. */
  forward(x: g.Tensor, emb: g.Tensor, dropout: DropoutNoise | null = null): g.Tensor {
    let h = this.inNorm.forward(x);
    if (this.resample) {
      h = this.resample(h);
      x = this.resample(x);
    }
    h = this.inConv.forward(h);

    const n = emb.shape[0]!;
    const embActivated = g.silu(emb);
    const embOut = g.reshape(this.embLinear.forward(embActivated), [n, -1, 1, 1]);
    if (this.useScaleShiftNorm) {
      const [scale, shift] = g.split(embOut, 1, [this.outChannels, this.outChannels]) as [g.Tensor, g.Tensor];
      h = g.add(g.mul(this.outNorm.forward(h), g.add(scale, 1)), shift);
      if (this.coordShift) h = g.add(h, this.placeShift(embActivated, h.shape));
      h = g.silu(h);
    } else {
      if (this.coordShift) h = g.add(h, this.placeShift(embActivated, h.shape));
      h = this.outNorm.forward(g.add(h, embOut));
    }
    if (this.dropout > 0 && dropout) {
      const noise = dropout.noise(this.site, h.shape);
      if (noise) h = g.dropout(h, this.dropout, noise);
    }
    h = this.outConv.forward(h);
    return g.add(this.skip ? this.skip.forward(x) : x, h);
  }

  /** [N, C, H, W]: a·x + b·y per channel, with [a, b] = coord_shift(SiLU(emb)) (`embActivated`). */
  private placeShift(embActivated: g.Tensor, shape: readonly number[]): g.Tensor {
    const [n, c, height, width] = shape as [number, number, number, number];
    const [a, b] = g.split(g.reshape(this.coordShift!.forward(embActivated), [n, 2 * c, 1, 1]), 1, [c, c]) as [
      g.Tensor,
      g.Tensor,
    ];
    const [x, y] = g.split(pixelCoordinates(height, width), 1, [1, 1]) as [g.Tensor, g.Tensor];
    return g.add(g.mul(a, x), g.mul(b, y));
  }
}
