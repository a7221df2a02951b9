import assert from "node:assert/strict";
import { test } from "node:test";
import { learningRate } from "../../packages/glide-ts/src/train/lr-schedule.ts";

test("learning rate: linear warmup, then constant or a cosine decay to zero", () => {
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
  close(learningRate(0, 1e-3), 1e-3, "no warmup");
  close(learningRate(0, 1e-3, { warmupSteps: 4 }), 2.5e-4, "first warmup step");
  close(learningRate(3, 1e-3, { warmupSteps: 4 }), 1e-3, "last warmup step");
  close(learningRate(500, 1e-3, { warmupSteps: 4 }), 1e-3, "constant after warmup");
  const cosine = { warmupSteps: 10, schedule: "cosine" as const, totalSteps: 110 };
  close(learningRate(10, 1e-3, cosine), 1e-3, "cosine starts at the peak");
  close(learningRate(60, 1e-3, cosine), 5e-4, "half way: half the rate");
  close(learningRate(110, 1e-3, cosine), 0, "zero at the end");
});
