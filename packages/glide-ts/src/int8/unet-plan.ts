// The int8 plan of a U-Net, by measurement: calibration over a spread of timesteps with sample inputs
// (x_t made from a blocky random picture and noise, as the diffusion makes it), then the per-layer
// SQNR with those ranges; layers under the threshold stay fp32.
import { createDiffusion } from "../diffusion/gaussian.ts";
import type { BetaScheduleName } from "../diffusion/schedule.ts";
import type { GlideModel } from "../glide/model.ts";
import type { HostArray, SessionOptions } from "../runtime/session.ts";
import { Rng } from "../util/rng.ts";
import { type CalibrationResult, calibrate } from "./calibrate.ts";
import { meanOutputError } from "./output-error.ts";
import type { Int8Plan } from "./plan.ts";
import { int8Rewrite } from "./quantize-graph.ts";
import { layerSqnr } from "./sensitivity.ts";

/**
 * Layers whose own output has an SQNR under this stay fp32. 20 dB is a 10 % relative error of that
 * layer's output, where int8 layers measure 30–40 dB.
 */
export const DEFAULT_SQNR_THRESHOLD_DB = 20;

/**
 * The network's first and last convs see the noisy input and make the predicted noise, whose small
 * components a layer-local SQNR does not weigh: each is kept fp32 when that lowers the error at the
 * network's output by at least this fraction (measured end to end).
 */
export const BOUNDARY_KEEP_GAIN = 0.2;

/** Fractions of T − 1 at which the network is calibrated: both ends of the schedule and between. */
export const CALIBRATION_TIMESTEP_FRACTIONS = [1, 0.75, 0.5, 0.25, 0.1, 0] as const;

export interface UNetCalibrationOptions {
  /** The calibration batch and its inputs besides x and timesteps (text features, low_res, inpainting). */
  batch: number;
  conditioning: Readonly<Record<string, Float32Array>>;
  lowResSize?: number;
  /** Timesteps to calibrate at (default: CALIBRATION_TIMESTEP_FRACTIONS of the schedule). */
  timesteps?: readonly number[];
  sqnrThresholdDb?: number;
  seed?: number;
  session?: SessionOptions;
}

export interface UNetInt8Plan extends Int8Plan {
  timesteps: number[];
  calibration: CalibrationResult;
  /** Per-layer SQNR in dB. */
  sqnr: Map<string, number>;
  sqnrThresholdDb: number;
  /** Mean relative error of the predicted noise at the low timesteps: all convs int8, and with each boundary conv kept fp32. */
  boundaryErrors: { allInt8: number; keeping: Map<string, number> };
}

/** [n, 3, s, s] in [−1, 1]: random colours in 8×8-pixel cells, a stand-in for a picture's flat regions. */
export function blockyPictures(rng: Rng, n: number, size: number, cell = 8): Float32Array {
  const cells = Math.ceil(size / cell);
  const colours = Float32Array.from({ length: n * 3 * cells * cells }, () => 2 * rng.uniform() - 1);
  const out = new Float32Array(n * 3 * size * size);
  for (let p = 0; p < n * 3; p++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        out[(p * size + y) * size + x] = colours[(p * cells + Math.floor(y / cell)) * cells + Math.floor(x / cell)]!;
      }
    }
  }
  return out;
}

/** One feed set per timestep: x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε. */
export function calibrationFeeds(
  model: GlideModel,
  options: UNetCalibrationOptions,
): { timesteps: number[]; feeds: Record<string, HostArray>[] } {
  const c = model.config;
  const diffusion = createDiffusion({
    noiseSchedule: c.noise_schedule as BetaScheduleName,
    diffusionSteps: c.diffusion_steps,
  });
  const last = c.diffusion_steps - 1;
  const timesteps = [...(options.timesteps ?? CALIBRATION_TIMESTEP_FRACTIONS.map((f) => Math.round(f * last)))];
  const rng = new Rng(options.seed ?? 0);
  const n = options.batch;
  const feeds = timesteps.map((t) => {
    const x0 = blockyPictures(rng, n, c.image_size);
    const noise = rng.normalArray(x0.length);
    const a = Math.sqrt(diffusion.alphasCumprod[t]!);
    const s = Math.sqrt(1 - diffusion.alphasCumprod[t]!);
    const x = x0.map((v, i) => a * v + s * noise[i]!);
    return { ...options.conditioning, x, timesteps: new Float32Array(n).fill(t) };
  });
  return { timesteps, feeds };
}

/** Calibrates `model`'s U-Net and measures which layers stay fp32. */
export async function planUNetInt8(model: GlideModel, options: UNetCalibrationOptions): Promise<UNetInt8Plan> {
  const { outputs } = model.unetGraph(options.batch, { lowResSize: options.lowResSize });
  const { timesteps, feeds } = calibrationFeeds(model, options);
  const calibration = await calibrate(outputs, feeds, options.session);
  // Every other calibration input (t from the noisiest to the cleanest) keeps this pass affordable:
  // its graph holds each layer twice.
  const sqnr = await layerSqnr(
    outputs,
    calibration.ranges,
    feeds.filter((_, i) => i % 2 === 0),
    options.session,
  );
  const threshold = options.sqnrThresholdDb ?? DEFAULT_SQNR_THRESHOLD_DB;
  const keepFp32 = new Set([...sqnr].filter(([, db]) => db < threshold).map(([site]) => site));
  const sites = calibration.sites;
  const boundary = [...new Set([sites[0]!, sites[sites.length - 1]!])].filter((s) => !keepFp32.has(s));
  // Checked where int8 drifts most, the low timesteps; the calibration's outputs are the fp32 reference.
  const checked = Math.max(0, feeds.length - 2);
  const boundaryErrors = await boundaryCheck(
    model,
    options,
    { ranges: calibration.ranges, keepFp32 },
    boundary,
    feeds.slice(checked),
    calibration.outputs.slice(checked).map((o) => o.out as Float32Array),
  );
  for (const [site, error] of boundaryErrors.keeping) {
    if (error <= (1 - BOUNDARY_KEEP_GAIN) * boundaryErrors.allInt8) keepFp32.add(site);
  }
  return {
    ranges: calibration.ranges,
    keepFp32,
    timesteps,
    calibration,
    sqnr,
    sqnrThresholdDb: threshold,
    boundaryErrors,
  };
}

/** The output error with every planned conv in int8, and with each of `sites` kept fp32 in turn. */
async function boundaryCheck(
  model: GlideModel,
  options: UNetCalibrationOptions,
  plan: Int8Plan,
  sites: readonly string[],
  feeds: readonly Record<string, HostArray>[],
  reference: readonly Float32Array[],
): Promise<UNetInt8Plan["boundaryErrors"]> {
  const measure = async (int8: Int8Plan) => {
    const graph = await model.compileUNet(options.batch, {
      ...options.session,
      lowResSize: options.lowResSize,
      rewrite: int8Rewrite(int8),
    });
    try {
      return await meanOutputError(graph, feeds, reference);
    } finally {
      await graph.release();
    }
  };
  const allInt8 = await measure(plan);
  const keeping = new Map<string, number>();
  for (const site of sites) keeping.set(site, await measure({ ...plan, keepFp32: new Set([...plan.keepFp32, site]) }));
  return { allInt8, keeping };
}
