// POST /v1/images/generations, /edits and /variations: a request becomes a job on the queue; the
// reply is OpenAI's {created, data: [{b64_json | url}]}, or with `stream` a stream of events.
import type { FastifyInstance, FastifyReply } from "fastify";
import { encodePng } from "../../image/encode.ts";
import type { PipelineResult } from "../../pipelines/types.ts";
import type { ServerContext } from "../context.ts";
import { editMask } from "../edit-mask.ts";
import { ApiError, invalidField, toApiError } from "../errors.ts";
import { type EventPrefix, ImageEventStream } from "../event-stream.ts";
import type { ImageJob, JobSampling } from "../image-job.ts";
import { type ImageRequest, parseImageRequest, resolveSize } from "../image-request.ts";
import { readMultipart } from "../multipart-body.ts";
import { checkUpload } from "../upload-check.ts";

/** The job-specific part of a job: what it is and its pictures. */
type JobInput =
  | { kind: "generate" }
  | { kind: "edit"; image: Uint8Array; mask: Uint8Array }
  | { kind: "variation"; image: Uint8Array };

export function registerImageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post("/v1/images/generations", async (request, reply) => {
    const fields = parseImageRequest("generate", request.body as Record<string, unknown>, true, ctx.limits);
    return runJob(ctx, reply, fields, { kind: "generate" });
  });

  app.post("/v1/images/edits", async (request, reply) => {
    const body = await readMultipart(request);
    const fields = parseImageRequest("edit", body.fields, false, ctx.limits);
    const image = await upload(ctx, body.files, "image");
    const mask = body.files.mask ? await upload(ctx, body.files, "mask") : null;
    return runJob(ctx, reply, fields, { kind: "edit", image: image.bytes, mask: await editMask(image, mask) });
  });

  app.post("/v1/images/variations", async (request, reply) => {
    const body = await readMultipart(request);
    const fields = parseImageRequest("variation", body.fields, false, ctx.limits);
    const image = await upload(ctx, body.files, "image");
    return runJob(ctx, reply, fields, { kind: "variation", image: image.bytes });
  });
}

async function upload(ctx: ServerContext, files: Record<string, Uint8Array>, name: string) {
  const bytes = files[name];
  if (!bytes) throw invalidField(name, `${name} is required (a PNG, JPEG or WebP file)`, "missing_required_parameter");
  return { bytes, info: await checkUpload(bytes, name, ctx.limits) };
}

async function runJob(
  ctx: ServerContext,
  reply: FastifyReply,
  fields: ImageRequest,
  input: JobInput,
): Promise<FastifyReply> {
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
  if ("unavailable" in sizes) throw new ApiError(400, sizes.unavailable, { code: "unsupported" });
  const { upsample, side } = resolveSize(fields, sizes);
  const sampling: JobSampling = {
    prompt: fields.prompt,
    n: fields.n,
    seed: fields.seed,
    sampler: fields.sampler,
    steps: fields.steps,
    guidance: fields.guidance,
    upsample,
    previewEvery: fields.stream && fields.partialImages > 0 ? 1 : 0,
  };
  const job = {
    ...sampling,
    ...input,
    ...(input.kind === "variation" ? { strength: fields.strength } : {}),
  } as ImageJob;
  const size = `${side}x${side}`;

  // A client that goes away cancels its job, waiting or running.
  const gone = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) gone.abort();
  });

  if (!fields.stream) {
    const ticket = await queue.submit(job, { signal: gone.signal });
    const result = await ticket.result;
    return reply.send(await imagesResponse(ctx, result, fields.responseFormat, size));
  }
  const prefix: EventPrefix = input.kind === "generate" ? "image_generation" : "image_edit";
  const events = new ImageEventStream(prefix, size, fields.partialImages);
  const ticket = await queue.submit(job, { signal: gone.signal, onProgress: events.onProgress });
  reply
    .header("content-type", "text/event-stream; charset=utf-8")
    .header("cache-control", "no-cache")
    .header("x-accel-buffering", "no")
    .send(events.body);
  ticket.result
    .then(
      (result) => events.completed(result),
      (error: unknown) => {
        const apiError = toApiError(error);
        if (apiError.code === "internal_error") ctx.log(`a streamed job failed: ${describe(error)}`);
        return events.failed(apiError.body());
      },
    )
    .catch((error: unknown) => ctx.log(`a stream failed: ${describe(error)}`));
  return reply;
}

async function imagesResponse(ctx: ServerContext, result: PipelineResult, format: "b64_json" | "url", size: string) {
  const data = await Promise.all(
    result.images.map(async (image) => {
      const png = await encodePng(image);
      if (format === "b64_json") return { b64_json: Buffer.from(png).toString("base64") };
      return { url: `${ctx.baseUrl}/images/${await ctx.store.put(png)}` };
    }),
  );
  return {
    created: Math.floor(Date.now() / 1000),
    data,
    size,
    output_format: "png",
    glide: { seed: result.seed, settings: result.settings },
  };
}

export function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
