// CLIP guidance for a pipeline's base stage: the noised CLIP must see images of its own size at
// timesteps of its own schedule; its text embedding of the prompt is computed once, and every
// step gets scale · ∂(exp(logit_scale) · ⟨text, image(x_t, t)⟩)/∂x_t (see diffusion/condition.ts
// for how each sampler applies it).
import { clipGradient, clipTextEmbeddings } from "../clip/guidance.ts";
import { ClipModel } from "../clip/model.ts";
import type { GradientFn } from "../diffusion/condition.ts";
import type { GlideModel } from "../glide/model.ts";
import type { SessionOptions } from "../runtime/session.ts";
import { PipelineError } from "./errors.ts";
import { clipSessionsOf } from "./sessions.ts";

export interface ClipGuidanceOptions {
  /** From `loadClip`. */
  model: ClipModel;
  /** The gradient's scale (the reference notebook's guidance_scale, 3 there); 0 turns the guidance off. */
  scale: number;
}

/** The options checked against the base model; null when there is no guidance to apply. */
export function checkClipGuidance(
  guidance: ClipGuidanceOptions | undefined,
  model: GlideModel,
): ClipGuidanceOptions | null {
  if (guidance === undefined) return null;
  if (!(guidance.model instanceof ClipModel)) throw new PipelineError("CLIP guidance: `model` must come from loadClip");
  if (!Number.isFinite(guidance.scale) || guidance.scale < 0) {
    // A negative scale would push the picture away from the prompt.
    throw new PipelineError(`CLIP guidance scale must be a number ≥ 0, got ${guidance.scale}`);
  }
  const clip = guidance.model.config;
  const base = model.config;
  if (clip.image_size !== base.image_size) {
    throw new PipelineError(
      `CLIP guidance: the CLIP image tower takes ${clip.image_size}×${clip.image_size} images, the model makes ${base.image_size}×${base.image_size}`,
    );
  }
  if (clip.n_timesteps !== base.diffusion_steps || clip.beta_schedule !== base.noise_schedule) {
    throw new PipelineError(
      `CLIP guidance: the CLIP model knows the noise of ${clip.n_timesteps} ${clip.beta_schedule} steps, ` +
        `the model samples ${base.diffusion_steps} ${base.noise_schedule} steps`,
    );
  }
  if (!guidance.model.tokenizer) throw new PipelineError("CLIP guidance: the CLIP model has no tokenizer (vocabulary)");
  return guidance.scale === 0 ? null : guidance;
}

/** The gradient function of a run of `count` images of `prompt` (compiles on first use). */
export async function clipGuidanceGradient(
  guidance: ClipGuidanceOptions,
  prompt: string,
  count: number,
  session: SessionOptions = {},
): Promise<GradientFn> {
  const sessions = clipSessionsOf(guidance.model);
  const text = await clipTextEmbeddings(guidance.model, [prompt], await sessions.textEncoder(1, session));
  const textEmbeddings = new Float32Array(count * text.length);
  for (let i = 0; i < count; i++) textEmbeddings.set(text, i * text.length);
  return clipGradient({
    model: guidance.model,
    textEmbeddings,
    scale: guidance.scale,
    guidanceGraph: await sessions.guidanceGradient(count, session),
  });
}
