// /healthz (the process answers), /readyz (models loaded, the queue reachable and a worker to run
// jobs) and /metrics.
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.ts";
import { PUBLIC_ROUTE } from "../public-route.ts";

export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/healthz", PUBLIC_ROUTE, async () => ({ status: "ok" }));
  app.get("/readyz", PUBLIC_ROUTE, async (_request, reply) => {
    const status = readiness(ctx);
    return reply.code(status === "ready" ? 200 : 503).send({ status });
  });
  app.get("/metrics", PUBLIC_ROUTE, async (_request, reply) => {
    const stats = ctx.running?.queue.stats() ?? { waiting: 0, running: 0, capacity: 0, workers: 0 };
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(ctx.metrics.render(stats));
  });
}

function readiness(ctx: ServerContext): "ready" | "loading" | "queue_unreachable" | "no_workers" | "shutting_down" {
  if (ctx.draining) return "shutting_down";
  if (!ctx.running) return "loading";
  if (ctx.running.queue.reachable?.() === false) return "queue_unreachable";
  // On a Redis queue the workers are other processes: ready only while one of them is alive.
  return ctx.running.queue.stats().workers > 0 ? "ready" : "no_workers";
}
