// Sampling cases (`sample.<name>`): a whole guided sampling run of the reference, replayed. The
// recorded x_T (`start`) and the noise of every step (`noise.NNN`) go through this project's
// sampling loop and sampler, with the model of the manifest case named by `model`, the batch
// [prompt, uncond_prompt] and classifier-free guidance; x_0 is compared with `result`. Inpainting
// runs (`inpaint_image`, `inpaint_mask` in the file) also force the known region of every x_0
// prediction, as the reference does.

import type { SamplerName } from "glide-ts";
import { tokenizeCaption } from "glide-ts";
import {
  type BetaScheduleName,
  betaSchedule,
  classifierFreeGuidance,
  createSampler,
  forceKnownRegion,
  GaussianDiffusion,
  type NetworkFn,
  readSafetensors,
  replayNoise,
  type SamplerSpec,
  sample,
} from "glide-ts/internals";
import { maxAbsCheck } from "../compare.ts";
import { numberField, optionalBoolean, optionalNumber, optionalString, stringField, toleranceOf } from "../manifest.ts";
import { encodeText, feedsFor, VARIANT_INPUTS } from "../network.ts";
import { type CaseKind, type ParityCase, ParityCaseError } from "../types.ts";

/**
 * A whole run compounds each step's float32 differences (and guidance multiplies eps differences
 * by its scale), yet on the fixtures x_0 stays within ~2e-6 of the reference's: the forward
 * tolerance, 1e-4, leaves a wide margin and still catches any real divergence.
 */
export const SAMPLE_TOLERANCE = 1e-4;

/** `sampler` as the manifest writes it ("ddpm (p_sample_loop)", "ddim eta=0"), plus the respacing. */
export function samplerSpecOf(c: ParityCase): SamplerSpec {
  const text = stringField(c, "sampler");
  const match = /^\s*(ddpm|ddim|plms|dpm\+\+2m)(?![\w+])/i.exec(text);
  if (!match) {
    throw new ParityCaseError(`case '${c.name}': unknown sampler '${text}' (expected ddpm, ddim, plms or dpm++2m)`);
  }
  const name = match[1]!.toLowerCase() as SamplerName;
  const etaText = /\beta\s*=\s*([0-9.eE+-]+)/.exec(text)?.[1];
  const eta = optionalNumber(c, "eta") ?? (etaText === undefined ? undefined : Number(etaText));
  if (eta !== undefined && !(eta >= 0)) throw new ParityCaseError(`case '${c.name}': bad eta in '${text}'`);
  return { name, steps: optionalString(c, "timestep_respacing") ?? "", eta: name === "ddim" ? eta : undefined };
}

/** Token rows and masks of the batch [cond × n, uncond × n]. */
function promptBatch(cond: string, uncond: string, n: number, textCtx: number) {
  const rows = [...Array<string>(n).fill(cond), ...Array<string>(n).fill(uncond)].map((p) =>
    tokenizeCaption(p, textCtx),
  );
  return {
    tokens: BigInt64Array.from(
      rows.flatMap((r) => r.tokens),
      (v) => BigInt(v),
    ),
    mask: Uint8Array.from(
      rows.flatMap((r) => r.mask),
      (v) => (v ? 1 : 0),
    ),
  };
}

function twice(a: Float32Array): Float32Array {
  const out = new Float32Array(2 * a.length);
  out.set(a, 0);
  out.set(a, a.length);
  return out;
}

export const sampleKind: CaseKind = {
  kind: "sample",
  description: "a guided sampling run replayed from its recorded start and noise (result)",

  async run(c, ctx) {
    const tolerance = toleranceOf(c, SAMPLE_TOLERANCE);
    const spec = samplerSpecOf(c);
    const { model, config } = await ctx.model(stringField(c, "model"));
    const data = await readSafetensors(ctx.resolve(stringField(c, "file")));
    const start = data.float32("start");
    const shape = data.shape("start");
    const n = shape[0]!;
    const batch = 2 * n;

    const prompts = promptBatch(stringField(c, "prompt"), optionalString(c, "uncond_prompt") ?? "", n, config.text_ctx);
    const text = await encodeText(model, prompts.tokens, prompts.mask, batch, ctx.session);
    const extras: Record<string, Float32Array> = {};
    for (const key of VARIANT_INPUTS) if (data.has(key)) extras[key] = twice(data.float32(key));
    const inpaint = data.has("inpaint_image") && data.has("inpaint_mask");

    const unet = await model.compileUNet(batch, {
      ...ctx.session,
      lowResSize: config.super_res && data.has("low_res") ? data.shape("low_res")[2] : undefined,
    });
    let result: Float32Array;
    try {
      const timesteps = new Float32Array(batch);
      const network: NetworkFn = async (x, t) => {
        timesteps.fill(t);
        return (await unet.run(feedsFor(unet, { x, timesteps, ...text, ...extras }))).out as Float32Array;
      };
      const base = new GaussianDiffusion(
        betaSchedule(config.noise_schedule as BetaScheduleName, config.diffusion_steps),
      );
      result = await sample({
        sampler: createSampler(base, spec),
        model: classifierFreeGuidance(network, numberField(c, "guidance_scale")),
        shape,
        start,
        noise: replayNoise((step) => {
          const key = `noise.${String(step).padStart(3, "0")}`;
          return data.has(key) ? data.float32(key) : undefined;
        }),
        clipDenoised: optionalBoolean(c, "clip_denoised") ?? true,
        denoisedFn: inpaint
          ? forceKnownRegion(data.float32("inpaint_image"), data.float32("inpaint_mask"), shape)
          : undefined,
      });
    } finally {
      await unet.release();
    }
    return [maxAbsCheck("result", result, data.float32("result"), tolerance)];
  },
};
