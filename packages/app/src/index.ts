// @glide-ts/app: the image server and its Redis workers, for embedding `glide serve` in another program.
export { loadApiKeys } from "./server/api-keys.ts";
export { DEFAULT_LIMITS, type ServerLimits } from "./server/context.ts";
export { describeRedis } from "./server/queue/redis-connection.ts";
export { type QueueWorkerOptions, RedisQueueWorker } from "./server/queue/redis-worker.ts";
export { type QueueWorkerProcess, type QueueWorkerProcessOptions, startQueueWorker } from "./server/queue-worker.ts";
export { resolveServedModels, type ServedModelSources } from "./server/served-models.ts";
export { type GlideServer, type ServeOptions, startServer } from "./server/server.ts";
export { defaultWebDir, type StaticWebServer, serveStaticWeb } from "./server/static-web.ts";
