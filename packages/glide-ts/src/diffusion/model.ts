// What the diffusion layer needs from a network, and the hooks a caller may plug into sampling.
// Nothing here knows how the network is run; images are NCHW float32, flattened.

/**
 * A network's prediction for a batch: the noise `eps`, and optionally `v` ∈ [-1, 1], the
 * learned-range variance value of improved DDPM (−1: posterior variance, +1: β_t). All have the
 * layout of `x`.
 */
export interface ModelOutput {
  eps: Float32Array;
  v?: Float32Array;
  /**
   * A guidance gradient at this x_t, already scaled (see condition.ts): DDPM adds variance · grad
   * to its mean, the deterministic samplers apply it to ε in the score form.
   */
  grad?: Float32Array;
}

/**
 * The network as the samplers see it. `t` is the ORIGINAL timestep index (0 … T−1 of the
 * unrespaced process), the one the network was trained on, even when sampling a respaced process.
 * `shape` is x's shape (e.g. [N, C, H, W]). Conditioning (tokens, masks) lives in the closure.
 */
export type EpsModel = (x: Float32Array, t: number, shape: readonly number[]) => Promise<ModelOutput>;

/**
 * Applied to every prediction of x₀ before clipping (the reference's `denoised_fn`), e.g. to force
 * the known region of an inpainting. `t` is the original timestep index. May return its input.
 */
export type DenoisedFn = (xStart: Float32Array, t: number) => Float32Array;

/**
 * Applied by the sampling loop to the sample itself: to x_t before every model evaluation, with `t`
 * the original timestep index about to be evaluated, and to the final sample with `t` = null (x₀).
 * E.g. to paste a known region, re-noised to the level of `t`, into x_t (inpainting with a model
 * that takes no mask). May return its input.
 */
export type XtFn = (x: Float32Array, t: number | null) => Float32Array;

/** How a prediction of x₀ is post-processed before a sampler uses it. */
export interface XStartOptions {
  /** Clamp x₀ to [−1, 1] (the reference's `clip_denoised`; GLIDE samples with it on). */
  clipDenoised: boolean;
  denoisedFn?: DenoisedFn;
}

/**
 * Fresh standard normal noise for the `stepIndex`-th sampler step, shaped like x. Injectable, so
 * a parity test can replay the noise a reference run recorded.
 */
export type NoiseSource = (stepIndex: number, shape: readonly number[]) => Float32Array;
