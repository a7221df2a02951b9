export type LearningRateSchedule = "constant" | "cosine";

/**
 * The learning rate at `step` (counting from 0): a linear warmup from 0 to `lr` over `warmupSteps`,
 * then constant, or a cosine decay to 0 at `totalSteps`.
 */
export function learningRate(
  step: number,
  lr: number,
  {
    warmupSteps = 0,
    schedule = "constant",
    totalSteps = 0,
  }: { warmupSteps?: number; schedule?: LearningRateSchedule; totalSteps?: number } = {},
): number {
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  if (schedule === "constant" || totalSteps <= warmupSteps) return lr;
  const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
  return 0.5 * lr * (1 + Math.cos(Math.PI * progress));
}
