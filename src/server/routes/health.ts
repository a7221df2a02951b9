// /healthz (the process answers), /readyz (models loaded and taking jobs) and /metrics.
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.ts";

export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const status = ctx.draining ? "shutting_down" : ctx.running ? "ready" : "loading";
    return reply.code(status === "ready" ? 200 : 503).send({ status });
  });
  app.get("/metrics", async (_request, reply) => {
    const stats = ctx.running?.queue.stats() ?? { waiting: 0, running: 0, capacity: 0, workers: 0 };
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(ctx.metrics.render(stats));
  });
}
