// `glide serve`: an OpenAI-compatible image API (generations, edits, variations, models) on a pool
// of worker threads that keep the models loaded.

import { type Command, Option } from "commander";
import { DEVICES, type Device } from "glide-ts";
import { LOG_FORMATS, type LogFormat } from "../../server/access-log.ts";
import { loadApiKeys } from "../../server/api-keys.ts";
import { DEFAULT_LIMITS } from "../../server/context.ts";
import { describeRedis } from "../../server/queue/redis-connection.ts";
import { resolveServedModels } from "../../server/served-models.ts";
import { startServer } from "../../server/server.ts";
import { serveStaticWeb } from "../../server/static-web.ts";
import { OptionValueError } from "../errors.ts";
import { parseCount, parsePositive, parseThreads } from "../parse.ts";
import { addQueueOption } from "../queue-option.ts";
import { addModelOptions, addUpsamplerOptions, modelChoice, type SamplingCommandOptions } from "../sampling-options.ts";
import { servedModelText } from "../served-model-text.ts";

interface ServeCommandOptions extends SamplingCommandOptions {
  host: string;
  port: number;
  workers: number;
  threads?: number;
  device?: Device;
  queueSize: number;
  publicUrl?: string;
  jobTimeout: number;
  deadline?: number;
  requestTimeout: number;
  maxConnections: number;
  apiKeyFile?: string;
  cors: string[];
  urlTtl: number;
  jobTtl: number;
  jobsKept: number;
  maxN: number;
  queue?: string;
  web?: string | true;
  logFormat: LogFormat;
  logPrompts?: boolean;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new OptionValueError("--port must be 0 to 65535.");
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
    .addOption(
      new Option(
        "--device <device>",
        "where the workers run the networks, their sessions kept there (default cpu; with --queue: glide worker's)",
      ).choices(DEVICES),
    )
    .option("--queue-size <n>", "jobs that may wait for a worker; more get 429", parseCount("--queue-size"), 16)
    .option("--job-timeout <seconds>", "a running job is stopped after this long", parsePositive("--job-timeout"), 600)
    .option(
      "--deadline <seconds>",
      "with --queue: every request is answered within this long, whatever becomes of Redis or the workers (503 past it; default: --job-timeout + 600)",
      parsePositive("--deadline"),
    )
    .option(
      "--request-timeout <seconds>",
      "a client has this long to send a whole request, headers and body (408 past it, and the connection closed)",
      parsePositive("--request-timeout"),
      DEFAULT_LIMITS.requestTimeoutMs / 1000,
    )
    .option(
      "--max-connections <n>",
      "open connections at once; more are refused",
      parseCount("--max-connections"),
      DEFAULT_LIMITS.maxConnections,
    )
    .option("--api-key-file <file>", "API keys, one a line (also read: $GLIDE_API_KEYS); none: no authentication")
    .addOption(
      new Option("--cors <origin>", "allow browser calls from this origin (repeatable)")
        .argParser(collect)
        .default([], "no CORS headers"),
    )
    .option(
      "--public-url <url>",
      'the address clients reach this server at, the base of "url" results (default: where it listens)',
      parsePublicUrl,
    )
    .option("--url-ttl <seconds>", 'how long "url" results can be fetched', parsePositive("--url-ttl"), 3600)
    .option(
      "--job-ttl <seconds>",
      "how long a finished job of POST /v1/images/jobs can be read",
      parsePositive("--job-ttl"),
      3600,
    )
    .option(
      "--jobs-kept <n>",
      "finished jobs of POST /v1/images/jobs kept at most, with their images (the oldest go first)",
      parseCount("--jobs-kept"),
      200,
    )
    .option("--max-n <n>", "most images per request", parseCount("--max-n"), 4)
    .addOption(
      new Option("--log-format <format>", "one line per request and per job event, as text or as JSON")
        .choices(LOG_FORMATS)
        .default("text"),
    )
    .option("--log-prompts", "write each job's prompt in its log line (by default prompts are never logged)")
    .option(
      "--web [dir]",
      "instead of the API, serve the in-browser page `npm run build:web` wrote (default dist/web-local), cross-origin isolated; it runs the models itself",
    )
    .addHelpText(
      "after",
      `
The API is OpenAI's Images API: the official clients work with only a base URL (http://HOST:PORT/v1)
and a key. \`size\` is what the model family makes (e.g. 32x32 or 128x128 for glide-ts); GLIDE's own
knobs are optional extra fields: guidance, steps, sampler, seed (image i of n uses seed + i, and
each item of data says its seed), upsample, strength (variations). Every PNG carries its parameters.
\`stream: true\` sends Server-Sent Events with progress and partial images. The same bodies sent to
POST /v1/images/jobs (/edits, /variations) are queued and answered at once (202): poll
GET /v1/images/jobs/ID, cancel with DELETE. SIGTERM stops taking jobs,
finishes those accepted, then exits. GET /healthz, /readyz and /metrics (Prometheus).

Examples:
  glide serve
  glide serve --model glide --port 8080 --workers 2 --api-key-file keys.txt
  glide serve --checkpoint runs/small/ema.safetensors --no-upsample
  glide serve --queue redis://127.0.0.1:6379   # and on any machines: glide worker --queue redis://…
  glide serve --web                            # the page of \`npm run build:web\`: no server-side models`,
    );
  addQueueOption(
    command,
    "put jobs on a Redis queue (redis://HOST:PORT[/DB]) for `glide worker` processes instead of running them here",
    false,
  );
  addModelOptions(command, "base model");
  addUpsamplerOptions(command);
  command.action(async (options: ServeCommandOptions) => {
    if (options.web !== undefined) return serveWebPage(options);
    // On a queue the workers load the models (their model options); this process loads none.
    const models = options.queue ? undefined : await resolveServedModels(modelChoice(options));
    const server = await startServer({
      models,
      host: options.host,
      port: options.port,
      workers: options.workers,
      threads: options.threads,
      device: options.device,
      queueSize: options.queueSize,
      jobTimeoutSeconds: options.jobTimeout,
      deadlineSeconds: options.deadline,
      apiKeys: await loadApiKeys({ file: options.apiKeyFile }),
      corsOrigins: options.cors,
      urlTtlSeconds: options.urlTtl,
      jobTtlSeconds: options.jobTtl,
      maxKeptJobs: options.jobsKept,
      publicUrl: options.publicUrl,
      limits: {
        maxN: options.maxN,
        requestTimeoutMs: Math.max(1, Math.round(options.requestTimeout * 1000)),
        maxConnections: options.maxConnections,
      },
      queue: options.queue,
      accessLog: { format: options.logFormat, logPrompts: options.logPrompts === true },
      log: serverLog(options.logFormat),
    });
    const waiting = options.queue ? "waiting for a worker on the queue…" : "loading models…";
    const say = announcer(options.logFormat);
    say(`listening on ${server.url} (API at ${server.url}/v1; ${waiting})`);
    if (isWildcardHost(options.host) && !options.publicUrl) {
      say(
        `note: "url" results will point at ${server.url}, which clients cannot open; give the address they use with --public-url`,
      );
    }
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        say(`${signal}: finishing the accepted jobs, then exiting`);
        void server.shutdown().then(resolve);
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    try {
      // A stop before the first worker comes (on a queue) ends the wait for it.
      const served = await Promise.race([server.ready, stopped.then(() => null)]);
      const workers = options.queue ? `workers on ${describeRedis(options.queue)}` : `${options.workers} worker(s)`;
      if (served) {
        const device = options.queue ? "" : `, on ${served.device ?? "cpu"}`;
        say(`ready: ${servedModelText(served)}, ${workers}${device}`);
      }
    } catch (error) {
      await server.shutdown();
      throw error;
    }
    await stopped;
    say("stopped");
  });
}

/** An address that means "every interface": not one a client can connect to. */
function isWildcardHost(host: string): boolean {
  return ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0"].includes(host);
}

/** What the server says of itself on stdout (listening, ready, stopped): text, or JSON lines like the log's. */
function announcer(format: LogFormat): (message: string) => void {
  if (format === "json") {
    return (message) =>
      process.stdout.write(`${JSON.stringify({ type: "server", message, time: new Date().toISOString() })}\n`);
  }
  return (message) => process.stdout.write(`glide serve: ${message}\n`);
}

/** The server's own messages (failures that are its own): as the access log writes, on stderr. */
function serverLog(format: LogFormat): (message: string) => void {
  if (format === "json") {
    return (message) =>
      process.stderr.write(`${JSON.stringify({ type: "server", message, time: new Date().toISOString() })}\n`);
  }
  return (message) => process.stderr.write(`glide serve: ${message}\n`);
}

/** `--web`: static files with the COOP/COEP headers WebAssembly threads need; no model loads here. */
async function serveWebPage(options: ServeCommandOptions): Promise<void> {
  const dir = options.web === true ? undefined : options.web;
  const server = await serveStaticWeb({ dir, host: options.host, port: options.port });
  process.stdout.write(`glide serve: the in-browser page ${server.dir} on ${server.url} (cross-origin isolated)\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await server.close();
  process.stdout.write("glide serve: stopped\n");
}

function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionValueError(`--public-url must be an http(s) URL, got ${value}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OptionValueError(`--public-url must be an http(s) URL, got ${value}`);
  }
  return value;
}
