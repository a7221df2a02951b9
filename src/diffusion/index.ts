// The diffusion layer's public API: schedules, respacing, the Gaussian process, samplers, the
// sampling loop, guidance and inpainting hooks. It knows nothing of how a network is run.

export { conditionEps, conditionMean, conditionScore, type GradientFn, withGradient } from "./condition.ts";
export {
  createDiffusion,
  type DiffusionConfig,
  GaussianDiffusion,
  type PMeanVariance,
  type Timesteps,
  type VarianceMode,
} from "./gaussian.ts";
export {
  classifierFreeGuidance,
  combineGuidance,
  epsVarianceModel,
  guideModelOutput,
  joinEpsVariance,
  type NetworkFn,
  splitEpsVariance,
} from "./guidance.ts";
export { forceKnownRegion, renoiseKnownRegion } from "./inpaint.ts";
export type { DenoisedFn, EpsModel, ModelOutput, NoiseSource, XStartOptions, XtFn } from "./model.ts";
export { replayNoise, rngNoise } from "./noise.ts";
export { respacedBetas, spaceTimesteps } from "./respace.ts";
export { type SampleOptions, type StepInfo, sample } from "./sample.ts";
export * from "./samplers/index.ts";
export { BETA_SCHEDULES, type BetaScheduleName, betaSchedule, betasForAlphaBar } from "./schedule.ts";
