// The int8 plan of a model, made once per model (calibration runs the fp32 network a dozen times)
// and shared by every session and pipeline call that runs it in int8.

import type { GlideModel } from "../glide/model.ts";
import { blockyPictures, planUNetInt8, type UNetInt8Plan } from "../int8/unet-plan.ts";
import type { SessionOptions } from "../runtime/session.ts";
import { Rng } from "../util/rng.ts";
import { textFeeds } from "./text-features.ts";

/**
 * Calibration batch: a row with a caption and one without (the unconditional pass of guidance);
 * upsamplers, sampled with the prompt alone, get the first row only (their batch-2 activations at
 * 256×256 take 8 GB).
 */
const CALIBRATION_CAPTIONS = ["a colourful painting of an animal", ""];

const plans = new WeakMap<GlideModel, Promise<UNetInt8Plan>>();

/** The model's plan, calibrated on first use. */
export function int8PlanOf(model: GlideModel, session: SessionOptions = {}): Promise<UNetInt8Plan> {
  let plan = plans.get(model);
  if (!plan) {
    plan = makePlan(model, session);
    plans.set(model, plan);
    plan.catch(() => plans.delete(model));
  }
  return plan;
}

async function makePlan(model: GlideModel, session: SessionOptions): Promise<UNetInt8Plan> {
  const c = model.config;
  const captions = c.super_res ? CALIBRATION_CAPTIONS.slice(0, 1) : CALIBRATION_CAPTIONS;
  const batch = captions.length;
  const rng = new Rng(1);
  const conditioning: Record<string, Float32Array> = await textFeeds(
    model,
    captions,
    captions.map((_, i) => i),
    session,
  );
  const size = c.image_size;
  if (c.inpaint) {
    // One row with the left half known, one with nothing known.
    const mask = new Float32Array(batch * size * size);
    for (let i = 0; i < size * size; i++) mask[i] = i % size < size / 2 ? 1 : 0;
    const image = blockyPictures(rng, batch, size);
    conditioning.inpaint_image = image.map(
      (v, i) => v * mask[Math.floor(i / (3 * size * size)) * size * size + (i % (size * size))]!,
    );
    conditioning.inpaint_mask = mask;
  }
  const lowResSize = c.super_res ? size / 4 : undefined;
  if (lowResSize) conditioning.low_res = blockyPictures(rng, batch, lowResSize, 2);
  return planUNetInt8(model, { batch, conditioning, lowResSize, session });
}
