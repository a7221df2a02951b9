// One page request run by the core: generate or edit with the loaded models, its step events turned
// into the UI's Progress (with a preview of each picture), its images into PNG blobs that carry
// their parameters (the `parameters` and `glide-ts` text chunks the CLI and the server write).
import {
  addPngText,
  edit,
  encodePng,
  imageGrid,
  type PipelineResult,
  type ProgressEvent,
  parameterTexts,
  pictureParameters,
  type RgbImage,
  type SessionOptions,
  type TwoStageOptions,
  textToImage,
} from "glide-ts";
import type { ImageOptions, Progress, ResultPicture } from "../ui/backend.ts";
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

/** Settings the form leaves out are the pipelines' (the model's recommended sampling, else the defaults). */
function pipelineOptions(options: ImageOptions, context: JobContext): TwoStageOptions {
  const upsampling = options.upsample ?? context.upsample;
  const stages = upsampling ? 2 : 1;
  return {
    model: context.models.base,
    upsampler: upsampling ? context.models.upsampler : null,
    prompt: options.prompt,
    batchSize: options.n,
    steps: options.steps,
    guidanceScale: options.guidance,
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
    // Making the sessions compiles the model for this browser: the longest wait of a first run.
    const what = event.stage === "upsample" ? "preparing the upsampler" : "preparing the model";
    onProgress({ step: 0, total: 0, stage: `${what} (compiling it for this browser)` });
    return;
  }
  const progress: Progress = { step: event.step, total: event.total, ...(stageName ? { stage: stageName } : {}) };
  if (event.etaSeconds !== null) progress.etaSeconds = event.etaSeconds;
  onProgress(progress);
  // The preview follows as its own event once encoded (encoding waits for the event loop).
  if (event.preview) {
    const previews = Promise.all(event.preview.map(png));
    void Promise.all([png(imageGrid(event.preview)), previews]).then(([preview, each]) =>
      onProgress({ ...progress, preview, previews: each }),
    );
  }
}

/** The software named in the pictures' parameters. */
const SOFTWARE = "glide-ts (in the browser)";

export async function runJob(job: Job, context: JobContext): Promise<ResultPicture[]> {
  let result: PipelineResult;
  if (job.kind === "generate") {
    result = await textToImage(pipelineOptions(job.options, context));
  } else {
    const [image, mask] = await Promise.all([job.image.arrayBuffer(), job.mask.arrayBuffer()]);
    const { picture, keep } = await pictureAndMask(new Uint8Array(image), new Uint8Array(mask));
    result = await edit({
      ...pipelineOptions(job.options, context),
      image: picture,
      mask: keep,
    });
  }
  const models = {
    model: { name: "base.onnx", sha256: context.models.manifest.base.sha256 },
    upsampler: { name: "upsampler.onnx", sha256: context.models.manifest.upsampler.sha256 },
  };
  return Promise.all(
    result.images.map(async (image, index) => {
      const texts = parameterTexts(pictureParameters(result, index, models, SOFTWARE));
      const bytes = addPngText(await encodePng(image), texts) as Uint8Array<ArrayBuffer>;
      // Image i of a batch is made alone again by the seed S+i (see `glide generate --seed`).
      return { blob: new Blob([bytes], { type: "image/png" }), seed: result.seed + index };
    }),
  );
}
