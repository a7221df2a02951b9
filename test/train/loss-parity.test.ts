// The training objective against the reference: guided-diffusion's training_losses (ε-prediction,
// learned-range variance, LossType.MSE) on the text2im fixture model, per-sample terms at
// t = 0, 1, 500, 999 and the gradient of the batch-mean loss for every parameter. This checks the
// objective and the whole backward pass through GLIDE at once.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { readSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { loadTorchCheckpoint } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import { evaluateLossAndGradients } from "../../packages/glide-ts/src/train/loss-gradients.ts";
import { buildTrainingGraph } from "../../packages/glide-ts/src/train/objective-graph.ts";
import { lossKind } from "../../packages/parity/src/kinds/loss.ts";
import { runParity } from "../../packages/parity/src/run.ts";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";

/** Per-sample terms: |actual − expected| ≤ ATOL + RTOL·|expected|. */
const ATOL = 1e-4;
const RTOL = 1e-4;
/**
 * Gradients, per tensor: max abs error ≤ GRAD_RTOL · (max |expected| of that tensor) + GRAD_ATOL.
 * Stricter than "1e-4 of the output scale": small gradients must be right too. The absolute part
 * covers gradients that are zero up to rounding (the largest gradients here are ~0.1).
 */
const GRAD_RTOL = 1e-4;
const GRAD_ATOL = 1e-7;

const manifest = fixtureManifest<{
  cases: Record<string, { config?: Record<string, unknown>; checkpoint?: string; model?: string; file?: string }>;
}>();

test("loss parity: loss.text2im (per-sample mse, vb, loss; gradient of the mean loss for every parameter)", async () => {
  const lossCase = manifest.cases["loss.text2im"]!;
  const modelCase = manifest.cases[lossCase.model!]!;
  const model = GlideModel.fromStateDict(
    resolveConfig(modelCase.config!),
    await loadTorchCheckpoint(join(FIXTURES, modelCase.checkpoint!)),
    modelCase.checkpoint,
  );
  const io = await readSafetensors(join(FIXTURES, lossCase.file!));
  // The fixture's model has dropout 0: training mode then takes no dropout inputs.
  const batch = io.shape("x_start")[0]!;
  const graph = buildTrainingGraph(model, { batch, variant: "text2im" });
  assert.equal(graph.dropoutInputs.length, 0, "no dropout inputs at dropout 0");
  const params = [...model.params.params.keys()];
  assert.equal(graph.params.length, params.length, "the loss depends on every parameter");

  const evaluation = await evaluateLossAndGradients(model, {
    x_start: io.float32("x_start"),
    timesteps: io.get("t").data as BigInt64Array,
    noise: io.float32("noise"),
    tokens: io.get("tokens").data as BigInt64Array,
    mask: io.get("mask").data as Uint8Array,
  });
  const result: Record<string, Float32Array> = {
    mse: evaluation.mse,
    vb: evaluation.vb,
    loss: evaluation.loss,
    mean_loss: Float32Array.of(evaluation.meanLoss),
  };

  const report: string[] = [];
  for (const key of ["mse", "vb", "loss", "mean_loss"]) {
    const actual = result[key] as Float32Array;
    const expected = io.float32(`expected.${key}`);
    assert.equal(actual.length, expected.length, `${key}: ${actual.length} values, expected ${expected.length}`);
    for (let i = 0; i < expected.length; i++) {
      const err = Math.abs(actual[i]! - expected[i]!);
      report.push(`${key}[${i}] = ${actual[i]} (expected ${expected[i]}, abs err ${err.toExponential(2)})`);
      assert.ok(
        err <= ATOL + RTOL * Math.abs(expected[i]!),
        `${key}[${i}]: got ${actual[i]}, expected ${expected[i]} (abs err ${err})`,
      );
    }
  }

  // Worst tensor by absolute error, and by error relative to the tensor's own scale among tensors
  // with a real gradient (biases just before a GroupNorm have a gradient of zero up to rounding).
  let worstAbsolute = { name: "", error: 0, scale: 0 };
  let worstRelative = { name: "", relative: 0 };
  for (const name of params) {
    const expected = io.float32(`grad.${name}`);
    const actual = evaluation.grads.get(name)!;
    assert.equal(actual.length, expected.length, `grad.${name}: ${actual.length} values, expected ${expected.length}`);
    let error = 0;
    let scale = 0;
    for (let i = 0; i < expected.length; i++) {
      error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
      scale = Math.max(scale, Math.abs(expected[i]!));
    }
    if (Number.isNaN(error)) error = Number.POSITIVE_INFINITY;
    if (error >= worstAbsolute.error) worstAbsolute = { name, error, scale };
    if (scale >= 1e-6 && error / scale >= worstRelative.relative) worstRelative = { name, relative: error / scale };
    assert.ok(
      error <= GRAD_RTOL * scale + GRAD_ATOL,
      `grad.${name}: max abs error ${error} exceeds ${GRAD_RTOL}·${scale} (max |expected|) + ${GRAD_ATOL}`,
    );
  }
  report.push(
    `worst gradient (absolute): ${worstAbsolute.name}: max abs error ${worstAbsolute.error.toExponential(2)} ` +
      `(max |grad| ${worstAbsolute.scale.toExponential(2)})`,
    `worst gradient (relative to the tensor's max |grad|): ${worstRelative.name}: ${worstRelative.relative.toExponential(2)}`,
  );
  console.log(report.join("\n"));
});

test("the parity tool's loss kind passes the loss.text2im case", async () => {
  const report = await runParity({ dir: FIXTURES, kinds: [lossKind], only: ["loss.text2im"] });
  const result = report.results[0]!;
  assert.equal(result.status, "pass", `loss.text2im: ${result.status} ${result.message ?? ""}`);
  // mse, vb, loss, mean_loss, one check per parameter, and the count of gradients.
  assert.equal(result.checks.length, 4 + 207 + 1, "every term and every parameter's gradient is compared");
});
