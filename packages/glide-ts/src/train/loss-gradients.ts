// One evaluation of the training objective and its gradient for every parameter, on given inputs:
// what the parity check compares with the reference, and a tool for debugging a training run.
import type { GlideModel } from "../glide/model.ts";
import * as g from "../graph/index.ts";
import { CompiledGraph, type HostArray, RuntimeError, type SessionOptions } from "../runtime/session.ts";
import { buildTrainingGraph } from "./objective-graph.ts";

export interface LossEvaluation {
  /** Per sample. */
  mse: Float32Array;
  vb: Float32Array;
  loss: Float32Array;
  /** The batch mean of `loss`. */
  meanLoss: number;
  /** d meanLoss / d parameter, for every parameter of the model, by name in declaration order. */
  grads: Map<string, Float32Array>;
}

export interface LossEvaluationOptions extends SessionOptions {
  /** Super-res variants: the side of `low_res` (default image_size / 4). */
  lowResSize?: number;
}

/**
 * The hybrid loss and its gradients for a batch given as training-graph feeds (`x_start`,
 * `timesteps` int64, `noise`, and `tokens`, `mask`, `inpaint_mask`, `low_res` as the variant takes
 * them; see TrainingGraph). The model runs in training mode without dropout (no dropout inputs).
 */
export async function evaluateLossAndGradients(
  model: GlideModel,
  feeds: Record<string, HostArray>,
  options: LossEvaluationOptions = {},
): Promise<LossEvaluation> {
  const xStart = feeds.x_start;
  if (!(xStart instanceof Float32Array)) throw new RuntimeError("feed 'x_start' (float32 [N, 3, S, S]) is required");
  const size = model.config.image_size;
  const batch = xStart.length / (3 * size * size);
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RuntimeError(`feed 'x_start' has ${xStart.length} values, not a whole batch of 3×${size}×${size} images`);
  }
  const graph = buildTrainingGraph(model, { batch, dropout: false, lowResSize: options.lowResSize });
  const params = [...model.params.params];
  const grads = g.gradients(
    graph.loss,
    params.map(([, p]) => p),
  );
  const outputs: Record<string, g.Tensor> = {
    mse: graph.perSample.mse,
    vb: graph.perSample.vb,
    loss: graph.perSample.loss,
    mean_loss: graph.loss,
  };
  params.forEach(([name], i) => {
    outputs[`grad.${name}`] = grads[i]!;
  });

  const picked: Record<string, HostArray> = {};
  for (const name of Object.keys(graph.inputs)) {
    const value = feeds[name];
    if (!value) throw new RuntimeError(`the ${graph.variant} objective needs feed '${name}'`);
    picked[name] = value;
  }
  const session = await CompiledGraph.compile(outputs, { ...options, params: "initializers" });
  let out: Record<string, HostArray>;
  try {
    out = await session.run(picked);
  } finally {
    await session.release();
  }
  return {
    mse: out.mse as Float32Array,
    vb: out.vb as Float32Array,
    loss: out.loss as Float32Array,
    meanLoss: (out.mean_loss as Float32Array)[0]!,
    grads: new Map(params.map(([name]) => [name, out[`grad.${name}`] as Float32Array])),
  };
}
