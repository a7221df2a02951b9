// A job as the queue carries it: plain data (pictures as encoded bytes), so a queue in another
// process can carry it too.

/** What every job shares: the prompt, how many images, and GLIDE's own sampling knobs. */
export interface JobSampling {
  prompt: string;
  n: number;
  seed?: number;
  sampler?: string;
  steps?: number | string;
  guidance?: number;
  /** Run the upsampler after the base model. */
  upsample: boolean;
  /** Attach the predicted x₀ to every k-th step event (0: none). */
  previewEvery: number;
}

export type ImageJob =
  | ({ kind: "generate" } & JobSampling)
  /** `mask`: white keeps, black is redrawn (already made from the request's transparency). */
  | ({ kind: "edit"; image: Uint8Array; mask: Uint8Array } & JobSampling)
  | ({ kind: "variation"; image: Uint8Array; strength?: number } & JobSampling);

export type JobKind = ImageJob["kind"];
