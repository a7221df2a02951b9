// Asynchronous image jobs, beside OpenAI's routes and with the same bodies:
//   POST   /v1/images/jobs             a generations body (JSON)       → 202 the job
//   POST   /v1/images/jobs/edits       an edits body (multipart)       → 202 the job
//   POST   /v1/images/jobs/variations  a variations body (multipart)   → 202 the job
//   GET    /v1/images/jobs/{id}        the job (?preview=true: with the latest predicted picture)
//   GET    /v1/images/jobs             the caller's recent jobs, newest first (?limit=, default 20)
//   DELETE /v1/images/jobs/{id}        cancels a queued or running job
// A job is seen only by the API key that made it: any other gets 404, as for an unknown id.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { encodePng } from "glide-ts";
import { noteJob } from "../access-log.ts";
import type { ApiKeys } from "../api-keys.ts";
import type { ServerContext } from "../context.ts";
import { ApiError, invalidField } from "../errors.ts";
import type { JobKind } from "../image-job.ts";
import { type AsyncImageJob, isFinished } from "../image-jobs.ts";
import { encodeImages, prepareJob, readImageBody } from "./images.ts";

/** Every step's prediction travels with its progress (the latest is kept for ?preview=true). */
const PREVIEW_EVERY = 1;
const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 100;

export function registerImageJobRoutes(app: FastifyInstance, ctx: ServerContext, apiKeys: ApiKeys): void {
  const ownerOf = (request: FastifyRequest) => apiKeys.owner(request.headers.authorization);
  /** The caller's job named in the path: 404 when there is none (or it is another key's). */
  const jobOf = (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    const job = ctx.jobs.get(id, ownerOf(request));
    if (job) return job;
    throw new ApiError(404, `there is no job '${id}' (finished jobs are kept for a while only)`, {
      param: "id",
      code: "job_not_found",
    });
  };

  const submissions: [string, JobKind][] = [
    ["/v1/images/jobs", "generate"],
    ["/v1/images/jobs/edits", "edit"],
    ["/v1/images/jobs/variations", "variation"],
  ];
  for (const [path, kind] of submissions) {
    app.post(path, async (request, reply) => {
      const body = await readImageBody[kind](ctx, request);
      if (body.fields.stream) {
        throw invalidField("stream", "a job is polled, not streamed: leave stream out, or use the synchronous route");
      }
      const { queue, job, size } = prepareJob(ctx, body, PREVIEW_EVERY);
      const format = body.fields.responseFormat;
      const accepted = await ctx.jobs.submit(queue, ownerOf(request), job, async (result) => ({
        data: await encodeImages(ctx, result, format, kind),
        size,
        output_format: "png",
        glide: { seed: result.seed, seeds: result.seeds, settings: result.settings },
      }));
      noteJob(request, accepted.id);
      return reply.code(202).send(await jobView(ctx, accepted, false));
    });
  }

  app.get("/v1/images/jobs", async (request) => {
    const limit = listLimit((request.query as { limit?: string }).limit);
    const jobs = ctx.jobs.list(ownerOf(request), limit);
    return { object: "list", data: await Promise.all(jobs.map((job) => jobView(ctx, job, false, true))) };
  });

  app.get("/v1/images/jobs/:id", async (request) => {
    const { preview } = request.query as { preview?: string };
    if (preview !== undefined && preview !== "true" && preview !== "false") {
      throw invalidField("preview", `preview must be true or false, got '${preview}'`);
    }
    return jobView(ctx, jobOf(request), preview === "true");
  });

  app.delete("/v1/images/jobs/:id", async (request) => {
    const job = jobOf(request);
    if (isFinished(job)) {
      throw new ApiError(409, `the job has already ended (${job.status}); there is nothing to cancel`, {
        code: "job_finished",
      });
    }
    ctx.jobs.cancel(job);
    return jobView(ctx, job, false);
  });
}

function listLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIST_LIMIT;
  const limit = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIST_LIMIT)) {
    throw invalidField("limit", `limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got '${text}'`);
  }
  return limit;
}

/** A job as the API shows it; `summary` (lists) leaves out the images. */
async function jobView(ctx: ServerContext, job: AsyncImageJob, withPreview: boolean, summary = false) {
  const { ttlMs } = ctx.jobs.options;
  const view: Record<string, unknown> = {
    id: job.id,
    object: "image.job",
    kind: job.kind,
    status: job.status,
    created: job.created,
    queue_position: await ctx.jobs.position(job),
    progress: job.status === "running" ? job.progress : null,
    finished_at: job.finishedAt === null ? null : Math.floor(job.finishedAt / 1000),
    expires_at: job.finishedAt === null ? null : Math.floor((job.finishedAt + ttlMs) / 1000),
  };
  if (job.status === "failed") view.error = job.error;
  if (summary) return view;
  if (withPreview && job.status === "running" && job.preview) {
    const { stage, step, images } = job.preview;
    const data = await Promise.all(
      images.map(async (image) => ({ b64_json: Buffer.from(await encodePng(image)).toString("base64") })),
    );
    view.preview = { stage, step, data };
  }
  if (job.status === "succeeded") Object.assign(view, job.output);
  return view;
}
