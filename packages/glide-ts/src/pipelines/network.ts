// A U-Net session as the diffusion layer's NetworkFn: the conditioning inputs are fixed for the
// whole run; each call feeds x and the (original) timestep, and returns the raw [B, 6, S, S] output.

import type { NetworkFn } from "../diffusion/guidance.ts";
import type { GlideModel } from "../glide/model.ts";
import type { Int8Plan } from "../int8/plan.ts";
import type { HostArray, SessionOptions } from "../runtime/session.ts";
import { sessionsOf } from "./sessions.ts";

export interface NetworkOptions {
  /** The U-Net batch size every call must have. */
  batch: number;
  /** Inputs other than x and timesteps (text features, inpaint image and mask, low_res), per row. */
  conditioning: Readonly<Record<string, Float32Array>>;
  lowResSize?: number;
  session?: SessionOptions;
  /** Run the int8 U-Net of this plan (default: fp32). */
  int8?: Int8Plan | null;
}

export function unetNetwork(model: GlideModel, options: NetworkOptions): NetworkFn {
  const { batch } = options;
  const sessions = sessionsOf(model);
  const timesteps = new Float32Array(batch);
  let output: Float32Array | null = null; // reused: the guidance code copies what it keeps
  return async (x, t, shape) => {
    if (shape[0] !== batch) throw new RangeError(`this network runs batches of ${batch}, got ${shape[0]}`);
    const unet = await sessions.unet(batch, {
      lowResSize: options.lowResSize,
      session: options.session,
      int8: options.int8,
    });
    timesteps.fill(t);
    const feeds: Record<string, HostArray> = { ...options.conditioning, x, timesteps };
    output ??= new Float32Array(2 * x.length);
    const { out } = await unet.run(feeds, { out: output });
    return out as Float32Array;
  };
}
