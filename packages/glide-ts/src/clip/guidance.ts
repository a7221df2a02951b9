// The reference's CLIP cond_fn on compiled graphs: the prompts' normalised text embeddings,
// computed once, and for each x_t the gradient graph's ∂objective/∂x times the guidance scale.
// Prompt i guides image i. The image tower sees the ORIGINAL timestep (respaced runs included).
import type { GradientFn } from "../diffusion/condition.ts";
import type { CompiledGraph } from "../runtime/session.ts";
import { ClipError } from "./errors.ts";
import type { ClipModel } from "./model.ts";

/** Normalised text embeddings [prompts, n_embd] from the text graph (compiled for that many prompts). */
export async function clipTextEmbeddings(
  model: ClipModel,
  prompts: readonly string[],
  textGraph: CompiledGraph,
): Promise<Float32Array> {
  const { tokens, textLen } = model.encodePrompts(prompts);
  const out = await textGraph.run({ tokens, text_len: textLen });
  return out.text_emb_norm as Float32Array;
}

export interface ClipGradientOptions {
  model: ClipModel;
  /** [N, n_embd]: row i guides image i. */
  textEmbeddings: Float32Array;
  /** The guidance scale (the reference's grad_scale / the notebook's guidance_scale). */
  scale: number;
  /** `model.compileGuidance(N)`. */
  guidanceGraph: CompiledGraph;
}

export function clipGradient(options: ClipGradientOptions): GradientFn {
  const { model, textEmbeddings, scale, guidanceGraph } = options;
  const { image_size: size, n_embd: width, n_timesteps: steps } = model.config;
  return async (x, t, shape) => {
    const n = shape[0]!;
    if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== size || shape[3] !== size) {
      throw new ClipError(`CLIP guidance: images must be [N, 3, ${size}, ${size}], got [${shape.join(", ")}]`);
    }
    if (textEmbeddings.length !== n * width) {
      throw new ClipError(`CLIP guidance: ${textEmbeddings.length / width} text embeddings for ${n} images`);
    }
    if (!(Number.isInteger(t) && t >= 0 && t < steps)) {
      throw new ClipError(`CLIP guidance: timestep ${t} is outside the image tower's [0, ${steps})`);
    }
    const timesteps = new BigInt64Array(n).fill(BigInt(t));
    const out = await guidanceGraph.run({ x, t: timesteps, text_emb_norm: textEmbeddings });
    const grad = out.grad as Float32Array;
    const scaled = new Float32Array(grad.length);
    for (let i = 0; i < grad.length; i++) scaled[i] = grad[i]! * scale;
    return scaled;
  };
}
