// One page request run by the core: generate or edit with the loaded models, its step events turned
// into the UI's Progress (with a preview of the predicted picture), its images into PNG blobs.
import {
  DEFAULT_EDIT_GUIDANCE,
  DEFAULT_GUIDANCE,
  edit,
  encodePng,
  imageGrid,
  type PipelineResult,
  type ProgressEvent,
  type RgbImage,
  type SessionOptions,
  type TwoStageOptions,
  textToImage,
} from "../../src/browser.ts";
import type { ImageOptions, Progress } from "../ui/backend.ts";
import { pictureAndMask } from "./edit-mask.ts";
import type { LocalModels } from "./local-models.ts";
import type { Job } from "./protocol.ts";

/** Previews every this many steps: the sampler computes x₀ anyway, the PNG is small. */
const PREVIEW_EVERY = 2;

export interface JobContext {
  models: LocalModels;
  /** Whether to upsample when the request does not say. */
  upsample: boolean;
  session: SessionOptions;
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
}

const png = async (image: RgbImage) =>
  new Blob([(await encodePng(image)) as Uint8Array<ArrayBuffer>], { type: "image/png" });

function pipelineOptions(options: ImageOptions, context: JobContext, guidance: number): TwoStageOptions {
  const upsampling = options.upsample ?? context.upsample;
  const stages = upsampling ? 2 : 1;
  return {
    model: context.models.base,
    upsampler: upsampling ? context.models.upsampler : null,
    prompt: options.prompt,
    batchSize: options.n,
    steps: options.steps,
    guidanceScale: options.guidance ?? guidance,
    seed: options.seed,
    sampler: options.sampler,
    session: context.session,
    signal: context.signal,
    previewEvery: PREVIEW_EVERY,
    onProgress: (event) => reportEvent(event, stages, context.onProgress),
  };
}

function reportEvent(event: ProgressEvent, stages: number, onProgress: JobContext["onProgress"]): void {
  const stageName = event.stage === "upsample" ? "upsampling" : stages === 2 ? "drawing" : undefined;
  if (event.kind === "setup") {
    onProgress({ step: 0, total: 0, stage: `${stageName ?? "drawing"}: preparing` });
    return;
  }
  const progress: Progress = { step: event.step, total: event.total, ...(stageName ? { stage: stageName } : {}) };
  if (event.etaSeconds !== null) progress.etaSeconds = event.etaSeconds;
  onProgress(progress);
  // The preview follows as its own event once encoded (encoding waits for the event loop).
  if (event.preview) void png(imageGrid(event.preview)).then((preview) => onProgress({ ...progress, preview }));
}

export async function runJob(job: Job, context: JobContext): Promise<Blob[]> {
  let result: PipelineResult;
  if (job.kind === "generate") {
    result = await textToImage(pipelineOptions(job.options, context, DEFAULT_GUIDANCE));
  } else {
    const [image, mask] = await Promise.all([job.image.arrayBuffer(), job.mask.arrayBuffer()]);
    const { picture, keep } = await pictureAndMask(new Uint8Array(image), new Uint8Array(mask));
    result = await edit({
      ...pipelineOptions(job.options, context, DEFAULT_EDIT_GUIDANCE),
      image: picture,
      mask: keep,
    });
  }
  return Promise.all(result.images.map(png));
}
