// Training-objective cases (`loss.<name>`): the hybrid loss of improved DDPM (ε MSE plus the
// variational-bound term of the learned-range variance, mean detached) on the model of the
// manifest case named by `model`, with the file's x_start, t, noise and conditioning. Compared:
// every `expected.<term>` of the file (per-sample mse, vb, loss, and mean_loss) and every
// `grad.<param>` (d mean_loss / d param), which checks the whole backward pass through GLIDE.

import type { HostArray } from "glide-ts/internals";
import { evaluateLossAndGradients, readSafetensors } from "glide-ts/internals";
import { exactCheck, maxAbsCheck } from "../compare.ts";
import { stringField, toleranceOf } from "../manifest.ts";
import { boolOf, int64Of } from "../network.ts";
import { type CaseKind, type OutputCheck, ParityCaseError } from "../types.ts";

/**
 * Loss terms: 1e-4 of max(1, |term|) (vb reaches ~750 at t = 999). On the fixtures the errors are
 * ~1e-7 for terms of order 1 and 6e-5 for vb ≈ 753.
 */
export const LOSS_TOLERANCE = 1e-4;
/**
 * Gradients, per tensor: 1e-4 of the tensor's largest |gradient|, plus 1e-7 for the gradients that
 * are zero up to rounding (biases just before a GroupNorm). On the fixtures the worst error is
 * ~9e-6 of its tensor's scale.
 */
export const GRAD_RELATIVE_TOLERANCE = 1e-4;
export const GRAD_ABSOLUTE_TOLERANCE = 1e-7;

const TERMS = ["mse", "vb", "loss", "mean_loss"] as const;

function maxAbs(values: Float32Array): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

export const lossKind: CaseKind = {
  kind: "loss",
  description:
    "the training objective (per-sample mse, vb, loss, mean_loss) and d mean_loss / d param for every parameter",

  async run(c, ctx) {
    const relative = toleranceOf(c, LOSS_TOLERANCE);
    const { model } = await ctx.model(stringField(c, "model"));
    const io = await readSafetensors(ctx.resolve(stringField(c, "file")));
    for (const name of ["x_start", "t", "noise"]) {
      if (!io.has(name)) throw new ParityCaseError(`${io.source}: no '${name}'`);
    }
    const feeds: Record<string, HostArray> = {
      x_start: io.float32("x_start"),
      timesteps: int64Of(io, "t"),
      noise: io.float32("noise"),
    };
    if (io.has("tokens")) feeds.tokens = int64Of(io, "tokens");
    if (io.has("mask")) feeds.mask = boolOf(io, "mask");
    for (const name of ["inpaint_mask", "low_res"]) if (io.has(name)) feeds[name] = io.float32(name);
    const result = await evaluateLossAndGradients(model, feeds, {
      ...ctx.session,
      lowResSize: io.has("low_res") ? io.shape("low_res")[2] : undefined,
    });

    const computed: Record<(typeof TERMS)[number], Float32Array> = {
      mse: result.mse,
      vb: result.vb,
      loss: result.loss,
      mean_loss: Float32Array.of(result.meanLoss),
    };
    const checks: OutputCheck[] = [];
    let gradients = 0;
    for (const name of io.names()) {
      if (name.startsWith("expected.")) {
        const term = name.slice("expected.".length) as (typeof TERMS)[number];
        if (!TERMS.includes(term)) {
          throw new ParityCaseError(`${io.source}: '${name}' is not a loss term (${TERMS.join(", ")})`);
        }
        const expected = io.float32(name);
        checks.push(maxAbsCheck(term, computed[term], expected, relative * Math.max(1, maxAbs(expected))));
      } else if (name.startsWith("grad.")) {
        const param = name.slice("grad.".length);
        const actual = result.grads.get(param);
        if (!actual) throw new ParityCaseError(`${io.source}: '${name}' names no parameter of the model`);
        const expected = io.float32(name);
        const tolerance = GRAD_RELATIVE_TOLERANCE * maxAbs(expected) + GRAD_ABSOLUTE_TOLERANCE;
        checks.push(maxAbsCheck(name, actual, expected, tolerance));
        gradients++;
      }
    }
    // A file with gradients must have one for every parameter: none may go unchecked.
    if (gradients > 0) checks.push(exactCheck("gradients", gradients, result.grads.size));
    return checks;
  },
};
