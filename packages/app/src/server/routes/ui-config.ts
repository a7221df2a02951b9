// GET /ui/config: what the web UI needs to lay out its form (the picture size, the samplers and
// the defaults the pipelines use, the most images per request, whether an API key is needed). It
// is public like the UI's files: the page asks for it before the user has typed a key.
import type { FastifyInstance } from "fastify";
import { DEFAULT_EDIT_GUIDANCE, DEFAULT_GUIDANCE, SAMPLER_NAMES, samplingFormDefaults } from "glide-ts";
import type { ServerContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { PUBLIC_ROUTE } from "../public-route.ts";
import type { StageSizes } from "../worker-pool.ts";

export interface UiConfig {
  model: string;
  /** Side of the pictures a generation makes (upsampled when the server has an upsampler). */
  imageSize: number;
  /** Null when edits are available, else why not. */
  editUnavailable: string | null;
  samplers: readonly string[];
  defaults: { sampler: string; steps: number; guidance: number; editGuidance: number };
  samplerSteps: Readonly<Record<string, number>>;
  maxImages: number;
  apiKeyRequired: boolean;
  /** The base model's side when an upsampler makes `imageSize` bigger (the UI's size toggle), else null. */
  baseImageSize: number | null;
  /** How long finished asynchronous jobs are kept (the UI says so under its gallery). */
  jobTtlSeconds: number;
}

const finalSide = (sizes: StageSizes) => sizes.upsampled ?? sizes.base;

export function registerUiConfigRoute(app: FastifyInstance, ctx: ServerContext, apiKeyRequired: boolean): void {
  app.get("/ui/config", PUBLIC_ROUTE, async (_request, reply): Promise<UiConfig> => {
    if (!ctx.running) throw new ApiError(503, "the server is loading its models", { code: "loading" });
    const { id, sizes } = ctx.running.served;
    if ("unavailable" in sizes.generate) throw new ApiError(503, sizes.generate.unavailable, { code: "unsupported" });
    reply.header("cache-control", "no-cache");
    return {
      model: id,
      imageSize: finalSide(sizes.generate),
      editUnavailable: "unavailable" in sizes.edit ? sizes.edit.unavailable : null,
      samplers: SAMPLER_NAMES,
      ...samplingFormDefaults(ctx.running.served.sampling ?? null, {
        text: DEFAULT_GUIDANCE,
        edit: DEFAULT_EDIT_GUIDANCE,
      }),
      maxImages: ctx.limits.maxN,
      apiKeyRequired,
      baseImageSize: sizes.generate.upsampled === null ? null : sizes.generate.base,
      jobTtlSeconds: Math.round(ctx.jobs.options.ttlMs / 1000),
    };
  });
}
