/** Linear warmup from 0 to `lr` over `warmupSteps` steps, then constant (step counts from 0). */
export function warmupLearningRate(step: number, lr: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return lr;
  return lr * Math.min(1, (step + 1) / warmupSteps);
}
