// How much a text2im model's noise prediction depends on the colour word of its caption, measured
// directly: the same noisy picture at several timesteps, ε for "a red square", "a blue square", …,
// and the RMS difference between each pair of colours (ε's own RMS is about 1). A continuous figure
// that moves long before samples follow their colour words: what guidance has to amplify.
import type { GlideModel, SessionOptions } from "glide-ts";
import { calibrationFeeds, textFeeds } from "glide-ts/internals";

/** Colour words on several shapes, and several noisy pictures: one caption or picture alone is noisy. */
export const SENSITIVITY_COLOURS = ["red", "blue", "green", "yellow"];
export const SENSITIVITY_SHAPES = ["square", "heart", "circle"];
export const SENSITIVITY_PICTURES = 4;
/** Shares of the diffusion's steps: from the noisiest, where colour is decided, to the cleanest. */
export const SENSITIVITY_FRACTIONS = [0.9, 0.6, 0.3, 0.1];

export interface ColourSensitivity {
  timesteps: number[];
  /** Mean over shapes, pictures and colour pairs of RMS(ε(a) − ε(b)), per timestep. */
  perTimestep: number[];
  /** Their mean. */
  mean: number;
}

/**
 * The colour sensitivity of `model`; `groups` are sets of captions compared pairwise (default: each
 * shape with every colour, "a red square" … "a yellow square").
 */
export async function colourSensitivity(
  model: GlideModel,
  session: SessionOptions = {},
  groups: readonly (readonly string[])[] = SENSITIVITY_SHAPES.map((shape) =>
    SENSITIVITY_COLOURS.map((colour) => `a ${colour} ${shape}`),
  ),
): Promise<ColourSensitivity> {
  const rows = groups[0]!.length;
  const last = model.config.diffusion_steps - 1;
  const timesteps = SENSITIVITY_FRACTIONS.map((f) => Math.round(f * last));
  const unet = await model.compileUNet(rows, session);
  const size = model.config.image_size;
  const epsValues = 3 * size * size;
  const perRow = 2 * epsValues;
  const sums = new Array<number>(timesteps.length).fill(0);
  let measures = 0;
  try {
    for (const captions of groups) {
      const conditioning = await textFeeds(
        model,
        captions,
        captions.map((_, i) => i),
        session,
      );
      for (let picture = 0; picture < SENSITIVITY_PICTURES; picture++) {
        const { feeds } = calibrationFeeds(model, { batch: rows, conditioning, seed: 3 + picture, timesteps });
        for (const [k, feed] of feeds.entries()) {
          // Every row gets row 0's picture: the captions are the only difference.
          const x = feed.x as Float32Array;
          const one = x.length / rows;
          for (let r = 1; r < rows; r++) x.set(x.subarray(0, one), r * one);
          const out = (await unet.run(feed)).out as Float32Array;
          let sum = 0;
          let pairs = 0;
          for (let a = 0; a < rows; a++) {
            for (let b = a + 1; b < rows; b++) {
              let squares = 0;
              for (let i = 0; i < epsValues; i++) squares += (out[a * perRow + i]! - out[b * perRow + i]!) ** 2;
              sum += Math.sqrt(squares / epsValues);
              pairs++;
            }
          }
          sums[k]! += sum / pairs;
        }
        measures++;
      }
    }
  } finally {
    await unet.release();
  }
  const perTimestep = sums.map((s) => s / measures);
  return { timesteps, perTimestep, mean: perTimestep.reduce((a, b) => a + b, 0) / perTimestep.length };
}
