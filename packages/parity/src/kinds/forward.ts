// Model forward cases: the manifest's model cases (`config`, `checkpoint`, `io`). The io file's
// inputs go through the text encoder and the U-Net; every `expected.<output>` it holds is compared
// (out: eps and variance channels; xf_proj, xf_out: the text encoder), and `params`, when given,
// must equal the model's parameter count. A model case without `io` (one that only provides the
// model for other cases) is loaded and its `params` checked.

import { readSafetensors } from "glide-ts/internals";
import { exactCheck, maxAbsCheck } from "../compare.ts";
import { optionalNumber, stringField, toleranceOf } from "../manifest.ts";
import { boolOf, encodeText, feedsFor, int64Of, VARIANT_INPUTS } from "../network.ts";
import { type CaseKind, type OutputCheck, ParityCaseError } from "../types.ts";

/** Float32 on another engine: ~1e-4 of outputs of order 1 (the fixtures' README). */
export const FORWARD_TOLERANCE = 1e-4;

export const forwardKind: CaseKind = {
  kind: "forward",
  description: "a model's text encoder and U-Net on recorded inputs (expected.out, expected.xf_proj, expected.xf_out)",

  async run(c, ctx) {
    const tolerance = toleranceOf(c, FORWARD_TOLERANCE);
    const { model, config } = await ctx.model(c.name);
    const params = optionalNumber(c, "params");
    if (c.entry.io === undefined) {
      if (params === undefined) throw new ParityCaseError(`case '${c.name}': neither 'io' nor 'params' to compare`);
      return [exactCheck("params", model.params.count(), params)];
    }
    const io = await readSafetensors(ctx.resolve(stringField(c, "io")));
    if (!io.has("expected.out")) throw new ParityCaseError(`${io.source}: no 'expected.out'`);
    const batch = io.shape("x")[0]!;

    const checks: OutputCheck[] = [];
    const text = model.textEncoder
      ? await encodeText(model, int64Of(io, "tokens"), boolOf(io, "mask"), batch, ctx.session)
      : {};
    const unet = await model.compileUNet(batch, {
      ...ctx.session,
      lowResSize: config.super_res && io.has("low_res") ? io.shape("low_res")[2] : undefined,
    });
    let out: Float32Array;
    try {
      const inputs: Record<string, Float32Array | undefined> = {
        x: io.float32("x"),
        timesteps: io.float32("t"),
        ...text,
      };
      for (const key of VARIANT_INPUTS) if (io.has(key)) inputs[key] = io.float32(key);
      out = (await unet.run(feedsFor(unet, inputs))).out as Float32Array;
    } finally {
      await unet.release();
    }

    const computed: Record<string, Float32Array | undefined> = { out, ...text };
    for (const name of io.names()) {
      if (!name.startsWith("expected.")) continue;
      const output = name.slice("expected.".length);
      const actual = computed[output];
      if (!actual) throw new ParityCaseError(`${io.source}: '${name}' names no output of this model`);
      checks.push(maxAbsCheck(output, actual, io.float32(name), tolerance));
    }
    if (params !== undefined) checks.push(exactCheck("params", model.params.count(), params));
    return checks;
  },
};
