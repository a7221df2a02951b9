// The feeds of one training step: everything random in the objective is drawn here, from one seeded
// generator, in a fixed order, so the same seed and data give the same run (and a saved Rng state
// resumes it exactly).
import { inputAttrs } from "../graph/ops/leaf.ts";
import type { HostArray } from "../runtime/session.ts";
import type { Rng } from "../util/rng.ts";
import { DEFAULT_CAPTION_DROPOUT, dropCaptions, tokenizeCaptions } from "./batch-captions.ts";
import { lowResFromImages } from "./batch-lowres.ts";
import { randomInpaintMasks } from "./batch-masks.ts";
import { TRAINING_INPUTS, type TrainingGraph } from "./objective-graph.ts";

/** One training pair: an image [3, S, S] in [−1, 1] (CHW) and its caption. */
export interface TrainingExample {
  image: Float32Array;
  caption: string;
}

export interface BatchOptions {
  /** Probability that a caption becomes empty (classifier-free guidance). Default 0.2. */
  captionDropout?: number;
  /** Fixed timesteps (e.g. a validation set) instead of uniform draws; one per example. */
  timesteps?: readonly number[];
}

export interface AssembledBatch {
  /** One buffer per graph input, ready for `TrainingSession.run` / `CompiledGraph.run`. */
  feeds: Record<string, HostArray>;
  timesteps: number[];
  /** The captions the model saw (after dropout). */
  captions: string[];
}

/** A square crop of side `size` at (top, left) from a CHW image of side `source`. */
function cropImage(image: Float32Array, source: number, size: number, top: number, left: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++) {
      const from = c * source * source + (top + y) * source + left;
      out.set(image.subarray(from, from + size), c * size * size + y * size);
    }
  return out;
}

/**
 * The feeds of `graph` for `examples`. Draw order: crop corners when the graph crops (two uniform
 * integers per example, on the upsampling factor's grid), caption dropout (one uniform per example),
 * timesteps (uniform over the process's steps), noise (normal, image layout), inpainting masks,
 * then ResBlock dropout noise, one input after another. The low-res input involves no randomness.
 */
export function assembleBatch(
  graph: TrainingGraph,
  examples: readonly TrainingExample[],
  rng: Rng,
  options: BatchOptions = {},
): AssembledBatch {
  const { batch, imageSize: size, sourceSize: source } = graph;
  if (examples.length !== batch) {
    throw new RangeError(`the training graph takes batches of ${batch} examples, got ${examples.length}`);
  }
  const perImage = 3 * size * size;
  const xStart = new Float32Array(batch * perImage);
  // Crop corners sit on multiples of the upsampling factor, so the crop's low-res input is exactly
  // the matching block of the whole image's.
  const grid = graph.lowResSize === null ? 1 : size / graph.lowResSize;
  const corners = (source - size) / grid + 1;
  examples.forEach((e, n) => {
    if (e.image.length !== 3 * source * source) {
      throw new RangeError(`example ${n}: image has ${e.image.length} values, expected 3×${source}×${source}`);
    }
    if (source === size) xStart.set(e.image, n * perImage);
    else xStart.set(cropImage(e.image, source, size, rng.int(corners) * grid, rng.int(corners) * grid), n * perImage);
  });
  const names = TRAINING_INPUTS;
  const feeds: Record<string, HostArray> = { [names.xStart]: xStart };

  const captions = dropCaptions(
    examples.map((e) => e.caption),
    rng,
    options.captionDropout ?? DEFAULT_CAPTION_DROPOUT,
  );

  const steps = graph.diffusion.numTimesteps;
  let timesteps: number[];
  if (options.timesteps) {
    timesteps = [...options.timesteps];
    if (timesteps.length !== batch || !timesteps.every((t) => Number.isInteger(t) && t >= 0 && t < steps)) {
      throw new RangeError(`timesteps: expected ${batch} integers in [0, ${steps}), got [${timesteps.join(", ")}]`);
    }
  } else {
    timesteps = examples.map(() => rng.int(steps));
  }
  feeds[names.timesteps] = BigInt64Array.from(timesteps, BigInt);
  feeds[names.noise] = rng.normalArray(batch * perImage);

  if (graph.textCtx !== null) {
    const { tokens, mask } = tokenizeCaptions(captions, graph.textCtx);
    feeds[names.tokens] = tokens;
    if (graph.usesTextMask) feeds[names.mask] = mask;
  }
  if (names.inpaintMask in graph.inputs) feeds[names.inpaintMask] = randomInpaintMasks(rng, batch, size, size);
  if (graph.lowResSize !== null) {
    feeds[names.lowRes] = lowResFromImages(xStart, [batch, 3, size, size], graph.lowResSize);
  }
  for (const t of graph.dropoutInputs) {
    // 24-bit uniforms are exact in float32 and stay below 1.
    feeds[inputAttrs(t).name] = Float32Array.from(
      { length: t.shape.reduce((a, b) => a * b, 1) },
      () => (rng.nextUint32() >>> 8) / 16777216,
    );
  }
  return { feeds, timesteps, captions };
}
