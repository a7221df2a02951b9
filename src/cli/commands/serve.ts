// `glide serve`: an OpenAI-compatible image API (generations, edits, variations, models) on a pool
// of worker threads that keep the models loaded.

import { type Command, InvalidArgumentError, Option } from "commander";
import { loadApiKeys, resolveServedModels, startServer } from "../../node.ts";
import { parseCount, parsePositive, parseThreads } from "../parse.ts";
import { addModelOptions, addUpsamplerOptions, modelChoice, type SamplingCommandOptions } from "../sampling-options.ts";

interface ServeCommandOptions extends SamplingCommandOptions {
  host: string;
  port: number;
  workers: number;
  threads?: number;
  queueSize: number;
  jobTimeout: number;
  apiKeyFile?: string;
  cors: string[];
  urlTtl: number;
  maxN: number;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new InvalidArgumentError("--port must be 0 to 65535.");
  return n;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerServe(program: Command): void {
  const command = program
    .command("serve")
    .description("serve an OpenAI-compatible image API (POST /v1/images/generations, /edits, /variations)")
    .option("--host <address>", "address to listen on (0.0.0.0: every interface)", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: a free one)", parsePort, 8000)
    .option("--workers <n>", "worker threads, each with the models loaded", parseCount("--workers"), 1)
    .option(
      "--threads <n>",
      "onnxruntime threads per worker (default: the cores shared among the workers)",
      parseThreads,
    )
    .option("--queue-size <n>", "jobs that may wait for a worker; more get 429", parseCount("--queue-size"), 16)
    .option("--job-timeout <seconds>", "a running job is stopped after this long", parsePositive("--job-timeout"), 600)
    .option("--api-key-file <file>", "API keys, one a line (also read: $GLIDE_API_KEYS); none: no authentication")
    .addOption(
      new Option("--cors <origin>", "allow browser calls from this origin (repeatable)")
        .argParser(collect)
        .default([], "no CORS headers"),
    )
    .option("--url-ttl <seconds>", 'how long "url" results can be fetched', parsePositive("--url-ttl"), 3600)
    .option("--max-n <n>", "most images per request", parseCount("--max-n"), 4)
    .addHelpText(
      "after",
      `
The API is OpenAI's Images API: the official clients work with only a base URL (http://HOST:PORT/v1)
and a key. \`size\` is what the model family makes (e.g. 32x32 or 128x128 for glide-ts); GLIDE's own
knobs are optional extra fields: guidance, steps, sampler, seed, upsample, strength (variations).
\`stream: true\` sends Server-Sent Events with progress and partial images. SIGTERM stops taking jobs,
finishes those accepted, then exits. GET /healthz, /readyz and /metrics (Prometheus).

Examples:
  glide serve
  glide serve --model glide --port 8080 --workers 2 --api-key-file keys.txt
  glide serve --checkpoint runs/small/ema.safetensors --no-upsample`,
    );
  addModelOptions(command, "base model");
  addUpsamplerOptions(command);
  command.action(async (options: ServeCommandOptions) => {
    const models = await resolveServedModels(modelChoice(options));
    const server = await startServer({
      models,
      host: options.host,
      port: options.port,
      workers: options.workers,
      threads: options.threads,
      queueSize: options.queueSize,
      jobTimeoutSeconds: options.jobTimeout,
      apiKeys: await loadApiKeys({ file: options.apiKeyFile }),
      corsOrigins: options.cors,
      urlTtlSeconds: options.urlTtl,
      limits: { maxN: options.maxN },
    });
    process.stdout.write(`glide serve: listening on ${server.url} (API at ${server.url}/v1; loading models…)\n`);
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stdout.write(`glide serve: ${signal}: finishing the accepted jobs, then exiting\n`);
        void server.shutdown().then(resolve);
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    try {
      const served = await server.ready;
      const sizes = Object.entries(served.sizes)
        .map(
          ([job, s]) =>
            `${job} ${"unavailable" in s ? "unavailable" : [s.base, s.upsampled].filter((x) => x !== null).join("/")}`,
        )
        .join(", ");
      process.stdout.write(`glide serve: ready: model '${served.id}' (${sizes}), ${options.workers} worker(s)\n`);
    } catch (error) {
      await server.shutdown();
      throw error;
    }
    await stopped;
    process.stdout.write("glide serve: stopped\n");
  });
}
