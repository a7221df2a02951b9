// `glide worker`: runs the jobs that `glide serve --queue` puts on a Redis queue, on worker threads
// that keep the models loaded; as many of them as wanted, on any machines that reach the Redis server.
import type { Command } from "commander";
import { describeRedis } from "../../server/queue/redis-connection.ts";
import { startQueueWorker } from "../../server/queue-worker.ts";
import { resolveServedModels } from "../../server/served-models.ts";
import { parseCount, parsePositive, parseThreads } from "../parse.ts";
import { addQueueOption } from "../queue-option.ts";
import {
  addDeviceOption,
  addModelOptions,
  addUpsamplerOptions,
  modelChoice,
  type SamplingCommandOptions,
} from "../sampling-options.ts";
import { servedModelText } from "../served-model-text.ts";

interface WorkerCommandOptions extends SamplingCommandOptions {
  queue: string;
  workers: number;
  threads?: number;
  lockDuration: number;
}

export function registerWorker(program: Command): void {
  const command = program
    .command("worker")
    .description("run the jobs of `glide serve --queue` from a Redis queue (any number of workers, on any machines)")
    .option(
      "--workers <n>",
      "worker threads, each with the models loaded and one job at a time",
      parseCount("--workers"),
      1,
    )
    .option(
      "--threads <n>",
      "onnxruntime threads per worker thread (default: the cores shared among them)",
      parseThreads,
    )
    .option(
      "--lock-duration <seconds>",
      "a job whose worker stops answering this long (killed, cut off) is handed to another worker",
      parsePositive("--lock-duration"),
      30,
    )
    .addHelpText(
      "after",
      `
Servers answer with the models their workers load; the model options are the same as glide serve's.
SIGTERM (or Ctrl-C) takes no more jobs, finishes the running ones, then exits. A worker killed
outright has its job picked up by another one after --lock-duration.

Examples:
  glide worker --queue redis://127.0.0.1:6379
  glide worker --queue redis://queue.internal:6379/2 --model glide --workers 2`,
    );
  addQueueOption(command, "the Redis queue to take jobs from: redis://HOST:PORT[/DB]", true);
  addModelOptions(command, "base model");
  addUpsamplerOptions(command);
  addDeviceOption(command);
  command.action(async (options: WorkerCommandOptions) => {
    const say = (message: string) => process.stdout.write(`glide worker: ${message}\n`);
    const worker = await startQueueWorker({
      queue: options.queue,
      models: await resolveServedModels(modelChoice(options)),
      workers: options.workers,
      threads: options.threads,
      device: options.device,
      lockDurationSeconds: options.lockDuration,
      log: say,
    });
    say(
      `ready: ${servedModelText(worker.served)}, ${worker.slots} slot(s) on ${worker.served.device ?? "cpu"}, taking jobs from ${describeRedis(options.queue)} (id ${worker.id})`,
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          say(`${signal} again: exiting now; the running job(s) go to another worker after --lock-duration`);
          process.exit(1);
        }
        stopping = true;
        say(`${signal}: finishing the running job(s), then exiting (${signal} again: at once)`);
        void worker.close().then(resolve);
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
    say("stopped");
    // A Redis that went away leaves its client's reconnection timers behind: nothing is left to do.
    process.exit(0);
  });
}
