// GET /v1/models and /v1/models/:id, in OpenAI's shape, with the sizes each job makes.
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { ServedModel } from "../worker-pool.ts";

const STARTED = Math.floor(Date.now() / 1000);

function describeModel(served: ServedModel) {
  const sizes = Object.fromEntries(
    Object.entries(served.sizes).map(([job, s]) => [
      job,
      "unavailable" in s
        ? null
        : [s.base, ...(s.upsampled !== null && s.upsampled !== s.base ? [s.upsampled] : [])].map(
            (side) => `${side}x${side}`,
          ),
    ]),
  );
  return {
    id: served.id,
    object: "model",
    created: STARTED,
    owned_by: "glide-ts",
    sizes,
    device: served.device ?? "cpu",
  };
}

export function registerModelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const served = () => {
    if (!ctx.running) throw new ApiError(503, "the server is loading its models", { code: "loading" });
    return ctx.running.served;
  };
  app.get("/v1/models", async () => ({ object: "list", data: [describeModel(served())] }));
  app.get<{ Params: { id: string } }>("/v1/models/:id", async (request) => {
    const model = served();
    if (request.params.id !== model.id) {
      throw new ApiError(404, `the model '${request.params.id}' does not exist on this server`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return describeModel(model);
  });
}
