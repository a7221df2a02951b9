// The HTTP application: OpenAI's image routes under /v1 and their asynchronous jobs (behind the API
// keys, when there are any), the result files of `url` responses, health and metrics, the web UI at
// /; every error in OpenAI's error shape.

import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import cors from "@fastify/cors";
import multipart from "@fastify/multipart";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { type AccessLog, jobNoted } from "./access-log.ts";
import type { ApiKeys } from "./api-keys.ts";
import type { ServerContext } from "./context.ts";
import { ApiError, toApiError } from "./errors.ts";
import { isPublicRoute } from "./public-route.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerImageJobRoutes } from "./routes/image-jobs.ts";
import { describe, registerImageRoutes } from "./routes/images.ts";
import { registerModelRoutes } from "./routes/models.ts";
import { registerUiConfigRoute } from "./routes/ui-config.ts";
import { registerWebUi } from "./web-ui.ts";

export interface AppOptions {
  apiKeys: ApiKeys;
  /** Origins allowed to call the API from a browser; none: no CORS headers at all. */
  corsOrigins: readonly string[];
  /** Where each request's line goes (null: nowhere). */
  accessLog?: AccessLog | null;
}

/** A request that never reached the router: 408 when it took too long to arrive, else 400. Then closed. */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
  const apiError = timedOut
    ? new ApiError(408, "the request took too long to arrive; send it again", { code: "request_timeout" })
    : new ApiError(400, "the request is not valid HTTP", { param: "request", code: "bad_request" });
  const body = JSON.stringify(apiError.body());
  const reason = timedOut ? "Request Timeout" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${apiError.status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export async function buildApp(ctx: ServerContext, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: ctx.limits.jsonBytes,
    logger: false,
    // Node's own limit on receiving a request (headers and body), which fastify turns off by
    // default, checked often enough for a short limit (Node's default interval is 30 s).
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: ctx.limits.requestTimeoutMs,
          connectionsCheckingInterval: Math.max(100, Math.min(30_000, ctx.limits.requestTimeoutMs / 4)),
        },
        handler,
      ),
    requestTimeout: ctx.limits.requestTimeoutMs,
    // Requests Node itself refuses (too slow, malformed) are answered in OpenAI's error shape too.
    clientErrorHandler: answerClientError,
    // Errors fastify meets before routing (a bad percent-escape, an unsupported media type): in
    // OpenAI's error shape too, never a framework code.
    frameworkErrors: (error, _request, reply) => {
      const badUrl = error.code === "FST_ERR_BAD_URL";
      const message = badUrl ? "the request's path is not valid (a bad percent-escape)" : "the request is not valid";
      const apiError = new ApiError(400, message, { param: badUrl ? "path" : "body", code: "invalid_request" });
      return (reply as FastifyReply).code(400).send(apiError.body());
    },
  });
  app.server.maxConnections = ctx.limits.maxConnections;
  const accessLog = options.accessLog;
  if (accessLog) {
    app.addHook("onResponse", async (request, reply) => {
      const named = (request.params as { id?: unknown } | undefined)?.id;
      const job = jobNoted(request) ?? (typeof named === "string" ? named : undefined);
      accessLog.request({
        method: request.method,
        route: request.routeOptions.url ?? "(no route)",
        status: reply.statusCode,
        ms: reply.elapsedTime,
        ...(job ? { job } : {}),
      });
    });
  }
  // Registered before every plugin, so that their routes inherit it. Keys are checked on the route the router matched (after it decoded the path), not on the
  // request's raw URL: every route needs a key unless it was registered as public. A request that
  // matched no route gets the 404 handler and runs nothing.
  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.url === undefined || isPublicRoute(request.routeOptions.config)) return;
    if (request.method === "OPTIONS") return; // CORS preflight: browsers send no credentials
    if (ctx.draining) {
      throw new ApiError(503, "the server is shutting down", {
        code: "shutting_down",
        headers: { "retry-after": "5" },
      });
    }
    if (options.apiKeys.required && !options.apiKeys.accepts(request.headers.authorization)) {
      throw new ApiError(401, "a valid API key is required: send it as 'Authorization: Bearer KEY'", {
        code: "invalid_api_key",
      });
    }
  });
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...options.corsOrigins],
      methods: ["GET", "POST", "DELETE"],
      allowedHeaders: ["authorization", "content-type"],
    });
  }
  await app.register(multipart, {
    limits: { fileSize: ctx.limits.uploadBytes, files: 2, fields: 32, fieldSize: 64 << 10, parts: 40 },
  });
  // The stored results of `url` responses: public like a pre-signed link (their names are random).
  await app.register(async (scope) => {
    scope.addHook("onRoute", (route) => {
      route.config = { ...route.config, public: true };
    });
    await scope.register(fastifyStatic, {
      root: ctx.store.dir,
      prefix: "/images/",
      index: false,
      list: false,
      // Only stored images that have not expired.
      allowedPath: (path) => ctx.store.has(path.replace(/^\//, "")),
    });
  });

  // While draining, every response closes its connection, so no keep-alive connection holds the
  // server open once the last job is answered.
  app.addHook("onSend", async (_request, reply) => {
    if (ctx.draining) reply.header("connection", "close");
  });
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    // A request refused before its body was read (a missing key, too large): its connection is
    // closed after the answer, so the rest of the body is not waited for.
    if (!request.raw.complete) reply.header("connection", "close");
    if (apiError.status >= 500 && apiError.code === "internal_error") {
      ctx.log(`${request.method} ${request.url} failed: ${describe(error)}`);
    }
    return reply.code(apiError.status).headers(apiError.headers).send(apiError.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(404, `there is nothing at ${request.method} ${request.url.split("?")[0]}`, {
      code: "not_found",
    });
    return reply.code(404).send(error.body());
  });

  registerImageRoutes(app, ctx);
  registerImageJobRoutes(app, ctx, options.apiKeys);
  registerModelRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  registerUiConfigRoute(app, ctx, options.apiKeys.required);
  await registerWebUi(app, ctx.log);
  return app;
}
