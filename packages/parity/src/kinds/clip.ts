// CLIP model cases (a manifest case whose `config` is a CLIP one): both towers on the io file's
// inputs — the raw and normalised text and image embeddings, the logits, cond_fn's objective and
// its gradient `grad.x` (at the case's `io_case.grad_scale`) — the io file's tokens against this
// project's CLIP tokenizer on `io_case.prompts`, and `params` (per tower) exactly.
import type { ClipModel } from "glide-ts";
import { readSafetensors } from "glide-ts/internals";
import { countCheck, exactCheck, maxAbsCheck } from "../compare.ts";
import { stringField, toleranceOf } from "../manifest.ts";
import { int64Of } from "../network.ts";
import { type CaseKind, type OutputCheck, type ParityCase, ParityCaseError } from "../types.ts";
import { clipModel, isClipModelCase, scaleOf } from "./clip-model.ts";

/**
 * Relative to max(1, the largest |expected| value) of each output. A float32 re-implementation
 * matches embeddings to ~1e-6 and grad.x to ~5e-6 at a scale of ~8 (the fixtures' README); here
 * the errors are 1e-7 – 8e-7 of that scale.
 */
export const CLIP_TOLERANCE = 1e-5;

interface IoCase {
  prompts?: unknown;
  grad_scale?: unknown;
}

function ioCase(c: ParityCase): { prompts: string[] | null; gradScale: number } {
  const io = (c.entry.io_case ?? {}) as IoCase;
  const prompts = Array.isArray(io.prompts) && io.prompts.every((p) => typeof p === "string") ? io.prompts : null;
  if (typeof io.grad_scale !== "number")
    throw new ParityCaseError(`case '${c.name}': io_case.grad_scale is not a number`);
  return { prompts, gradScale: io.grad_scale };
}

/** exp(logit_scale) · image_norm × text_normᵀ, [images, texts]. */
function logits(model: ClipModel, image: Float32Array, text: Float32Array): Float32Array {
  const width = model.config.n_embd;
  const images = image.length / width;
  const texts = text.length / width;
  const out = new Float32Array(images * texts);
  for (let i = 0; i < images; i++) {
    for (let j = 0; j < texts; j++) {
      let dot = 0;
      for (let k = 0; k < width; k++) dot += image[i * width + k]! * text[j * width + k]!;
      out[i * texts + j] = model.logitScale * dot;
    }
  }
  return out;
}

export const clipKind: CaseKind = {
  kind: "clip",
  description: "the noised CLIP's towers on recorded inputs (embeddings, logits, objective, grad.x, tokens, params)",
  claims: (_name, entry) => isClipModelCase(entry),

  async run(c, ctx) {
    const relative = toleranceOf(c, CLIP_TOLERANCE);
    const model = await clipModel(c.name, ctx);
    const io = await readSafetensors(ctx.resolve(stringField(c, "io")));
    const { prompts, gradScale } = ioCase(c);
    const batch = io.shape("x")[0]!;
    const tokens = int64Of(io, "tokens");
    const textLen = int64Of(io, "text_len");
    const x = io.float32("x");
    const t = int64Of(io, "t");

    const session = ctx.session;
    const [textGraph, imageGraph, guidanceGraph] = await Promise.all([
      model.compileText(tokens.length / model.config.max_text_len, session),
      model.compileImage(batch, session),
      model.compileGuidance(batch, session),
    ]);
    const computed: Record<string, Float32Array> = {};
    try {
      const text = await textGraph.run({ tokens, text_len: textLen });
      computed.text_emb = text.text_emb as Float32Array;
      computed.text_emb_norm = text.text_emb_norm as Float32Array;
      const image = await imageGraph.run({ x, t });
      computed.image_emb = image.image_emb as Float32Array;
      computed.image_emb_norm = image.image_emb_norm as Float32Array;
      computed.logits = logits(model, computed.image_emb_norm, computed.text_emb_norm);
      const guided = await guidanceGraph.run({ x, t, text_emb_norm: computed.text_emb_norm });
      computed.objective = guided.objective as Float32Array;
      computed["grad.x"] = Float32Array.from(guided.grad as Float32Array, (v) => v * gradScale);
    } finally {
      await Promise.all([textGraph.release(), imageGraph.release(), guidanceGraph.release()]);
    }

    const checks: OutputCheck[] = [];
    for (const name of io.names()) {
      const output = name.startsWith("expected.") ? name.slice("expected.".length) : name;
      if (output !== "grad.x" && !name.startsWith("expected.")) continue;
      const actual = computed[output];
      if (!actual) throw new ParityCaseError(`${io.source}: '${name}' names no output of the CLIP model`);
      const expected = io.float32(name);
      checks.push(maxAbsCheck(output, actual, expected, relative * scaleOf(expected)));
    }
    if (prompts) {
      const encoded = model.encodePrompts(prompts);
      checks.push(countCheck("tokens", [...encoded.tokens], [...tokens]));
      checks.push(countCheck("text_len", [...encoded.textLen], [...textLen]));
    }
    const params = c.entry.params as Record<string, unknown> | undefined;
    if (params && typeof params === "object") {
      const counts = { text_encoder: model.textParams.count(), image_encoder: model.imageParams.count() };
      for (const [tower, count] of Object.entries(counts)) {
        if (typeof params[tower] === "number")
          checks.push(exactCheck(`params.${tower}`, count, params[tower] as number));
      }
    }
    return checks;
  },
};
