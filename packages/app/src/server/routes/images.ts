// POST /v1/images/generations, /edits and /variations: a request becomes a job on the queue; the
// reply is OpenAI's {created, data: [{b64_json | url, seed}]} (image i: seed S + i; each PNG with its
// parameters), or with `stream` a stream of events.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PipelineResult } from "glide-ts";
import { noteJob } from "../access-log.ts";
import type { ServerContext } from "../context.ts";
import { editMask } from "../edit-mask.ts";
import { ApiError, invalidField, toApiError } from "../errors.ts";
import { type EventPrefix, ImageEventStream } from "../event-stream.ts";
import type { ImageJob, JobKind, JobSampling } from "../image-job.ts";
import { type ImageRequest, parseImageRequest, resolveSize } from "../image-request.ts";
import { readMultipart } from "../multipart-body.ts";
import { resultPngs, type StagePictures } from "../picture-pngs.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import { checkUpload } from "../upload-check.ts";

/** The job-specific part of a job: what it is and its pictures. */
type JobInput =
  | { kind: "generate" }
  | { kind: "edit"; image: Uint8Array; mask: Uint8Array }
  | { kind: "variation"; image: Uint8Array };

/** A request's body, read and checked: its fields and its pictures. */
export interface ImageBody {
  fields: ImageRequest;
  input: JobInput;
}

/** Reads an images body of each kind: JSON for generations, multipart for edits and variations. */
export const readImageBody: Record<JobKind, (ctx: ServerContext, request: FastifyRequest) => Promise<ImageBody>> = {
  generate: async (ctx, request) => ({
    fields: parseImageRequest("generate", request.body as Record<string, unknown>, true, ctx.limits),
    input: { kind: "generate" },
  }),
  edit: async (ctx, request) => {
    const body = await readMultipart(request);
    const fields = parseImageRequest("edit", body.fields, false, ctx.limits);
    const image = await upload(ctx, body.files, "image");
    const mask = body.files.mask ? await upload(ctx, body.files, "mask") : null;
    return { fields, input: { kind: "edit", image: image.bytes, mask: await editMask(image, mask) } };
  },
  variation: async (ctx, request) => {
    const body = await readMultipart(request);
    const fields = parseImageRequest("variation", body.fields, false, ctx.limits);
    const image = await upload(ctx, body.files, "image");
    return { fields, input: { kind: "variation", image: image.bytes } };
  },
};

export function registerImageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const routes: [string, JobKind][] = [
    ["/v1/images/generations", "generate"],
    ["/v1/images/edits", "edit"],
    ["/v1/images/variations", "variation"],
  ];
  for (const [path, kind] of routes) {
    app.post(path, async (request, reply) => runJob(ctx, request, reply, await readImageBody[kind](ctx, request)));
  }
}

async function upload(ctx: ServerContext, files: Record<string, Uint8Array>, name: string) {
  const bytes = files[name];
  if (!bytes) throw invalidField(name, `${name} is required (a PNG, JPEG or WebP file)`, "missing_required_parameter");
  return { bytes, info: await checkUpload(bytes, name, ctx.limits) };
}

/** The queue and the job a checked body makes (the model and size checked against what is served). */
export function prepareJob(
  ctx: ServerContext,
  { fields, input }: ImageBody,
  previewEvery: number,
): { queue: JobQueue<ImageJob>; job: ImageJob; size: string } {
  const running = ctx.running;
  if (!running) throw new ApiError(503, "the server is loading its models", { code: "loading" });
  const { served, queue } = running;
  if (fields.model !== null && fields.model !== served.id) {
    throw new ApiError(404, `the model '${fields.model}' does not exist on this server (it serves '${served.id}')`, {
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    });
  }
  const sizes = served.sizes[input.kind];
  if ("unavailable" in sizes) throw new ApiError(400, sizes.unavailable, { param: "model", code: "unsupported" });
  const { upsample, side } = resolveSize(fields, sizes);
  const sampling: JobSampling = {
    prompt: fields.prompt,
    n: fields.n,
    seed: fields.seed,
    sampler: fields.sampler,
    steps: fields.steps,
    guidance: fields.guidance,
    upsample,
    previewEvery,
  };
  const job = {
    ...sampling,
    ...input,
    ...(input.kind === "variation" ? { strength: fields.strength } : {}),
  } as ImageJob;
  return { queue, job, size: `${side}x${side}` };
}

async function runJob(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  body: ImageBody,
): Promise<FastifyReply> {
  const { fields, input } = body;
  const { queue, job, size } = prepareJob(ctx, body, fields.stream && fields.partialImages > 0 ? 1 : 0);

  // A client that goes away cancels its job, waiting or running.
  const gone = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) gone.abort();
  });

  if (!fields.stream) {
    const ticket = await queue.submit(job, { signal: gone.signal });
    noteJob(request, ticket.id);
    const result = await ticket.result;
    return reply.send(await imagesResponse(ctx, result, fields.responseFormat, size, input.kind));
  }
  const prefix: EventPrefix = input.kind === "generate" ? "image_generation" : "image_edit";
  const events = new ImageEventStream(prefix, size, fields.partialImages);
  let started: () => void = () => undefined;
  const firstProgress = new Promise<void>((resolve) => {
    started = resolve;
  });
  const ticket = await queue.submit(job, {
    signal: gone.signal,
    onProgress: (event) => {
      started();
      events.onProgress(event);
    },
  });
  noteJob(request, ticket.id);
  // The pipeline checks its options before its first progress event: until then an error is the
  // request's (400 and its param), not an event of a stream that has begun.
  await Promise.race([firstProgress, ticket.result]);
  reply
    .header("content-type", "text/event-stream; charset=utf-8")
    .header("cache-control", "no-cache")
    .header("x-accel-buffering", "no")
    .send(events.body);
  ticket.result
    .then(async (result) => {
      const pngs = await resultPngs(result, picturesOf(ctx, input.kind));
      return events.completed(result, pngs);
    })
    .catch((error: unknown) => {
      const apiError = toApiError(error);
      if (apiError.code === "internal_error") ctx.log(`a streamed job failed: ${describe(error)}`);
      return events.failed(apiError.body());
    })
    .catch((error: unknown) => ctx.log(`a stream failed: ${describe(error)}`));
  return reply;
}

/**
 * The result's images as PNGs carrying their parameters, each with its own seed: in the response
 * (b64_json) or stored for a while, at a URL.
 */
export async function encodeImages(
  ctx: ServerContext,
  result: PipelineResult,
  format: "b64_json" | "url",
  kind: JobKind,
): Promise<(({ b64_json: string } | { url: string }) & { seed: number })[]> {
  const pngs = await resultPngs(result, picturesOf(ctx, kind));
  return Promise.all(
    pngs.map(async (png, i) => {
      const seed = result.seeds[i]!;
      if (format === "b64_json") return { b64_json: Buffer.from(png).toString("base64"), seed };
      return { url: `${ctx.baseUrl}/images/${await ctx.store.put(png)}`, seed };
    }),
  );
}

/** The model files a kind's pictures name (a queue's workers that do not say: the served model's id). */
export function picturesOf(ctx: ServerContext, kind: JobKind): StagePictures {
  const served = ctx.running?.served;
  return served?.pictures?.[kind] ?? { model: { name: served?.id ?? "unknown" }, upsampler: null };
}

async function imagesResponse(
  ctx: ServerContext,
  result: PipelineResult,
  format: "b64_json" | "url",
  size: string,
  kind: JobKind,
) {
  return {
    created: Math.floor(Date.now() / 1000),
    data: await encodeImages(ctx, result, format, kind),
    size,
    output_format: "png",
    glide: { seed: result.seed, seeds: result.seeds, settings: result.settings },
  };
}

export function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
