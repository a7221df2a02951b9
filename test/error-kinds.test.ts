// Every bad user input is a GlideError kind with a message that names the value and what it must be.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCount, parsePositive, parseSeed, parseSteps, parseThreads } from "../packages/app/src/cli/parse.ts";
import { startQueueWorker } from "../packages/app/src/server/queue-worker.ts";
import { type ServeOptions, startServer } from "../packages/app/src/server/server.ts";
import { ProcessPool } from "../packages/corpus/src/process-pool.ts";
import { chooseCaptions } from "../packages/eval/src/caption-match.ts";
import { resolveOptions } from "../packages/glide-ts/src/data/options.ts";
import { splitOf } from "../packages/glide-ts/src/data/split.ts";
import { createDiffusion } from "../packages/glide-ts/src/diffusion/gaussian.ts";
import { spaceTimesteps } from "../packages/glide-ts/src/diffusion/respace.ts";
import { DdimSampler } from "../packages/glide-ts/src/diffusion/samplers/ddim.ts";
import { dpmSolverTimesteps } from "../packages/glide-ts/src/diffusion/samplers/dpm-solver.ts";
import { createSampler, type SamplerSpec } from "../packages/glide-ts/src/diffusion/samplers/index.ts";
import { type BetaScheduleName, betaSchedule } from "../packages/glide-ts/src/diffusion/schedule.ts";
import { GlideError } from "../packages/glide-ts/src/errors.ts";
import { modelAndDiffusionDefaults, validateConfig } from "../packages/glide-ts/src/glide/config.ts";
import type { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { paddedTokensAndMask } from "../packages/glide-ts/src/glide/tokenizer.ts";
import { catalogModel } from "../packages/glide-ts/src/models/catalog.ts";
import { seededInitializer } from "../packages/glide-ts/src/nn/params.ts";
import {
  checkBatchSize,
  checkGuidanceScale,
  checkPrecision,
  checkTemperature,
  resolveSeed,
  samplerSpec,
} from "../packages/glide-ts/src/pipelines/options.ts";
import { dropCaptions } from "../packages/glide-ts/src/train/batch-captions.ts";
import { lowResFromImages } from "../packages/glide-ts/src/train/batch-lowres.ts";
import { randomInpaintMask } from "../packages/glide-ts/src/train/batch-masks.ts";
import { type TrainOptions, train } from "../packages/glide-ts/src/train/trainer.ts";
import { Rng } from "../packages/glide-ts/src/util/rng.ts";

const full = () => createDiffusion({ noiseSchedule: "linear", diffusionSteps: 100 });
const stubModel = { config: { diffusion_steps: 100 } } as unknown as GlideModel;
const trainWith = (changes: Partial<TrainOptions>) =>
  train({ steps: 10, batchSize: 2, lr: 1e-4, ...changes } as TrainOptions);

/** startServer (`glide serve` as a library) with one bad option: refused before anything starts. */
const SERVER_CASES: [string, () => unknown, RegExp][] = (
  [
    [{ workers: 0 }, /workers must be an integer from 1 to 256, got 0/],
    [{ workers: -1 }, /workers must be an integer from 1 to 256, got -1/],
    [{ workers: 1.5 }, /workers must be an integer from 1 to 256, got 1.5/],
    [{ workers: Number.NaN }, /workers must be an integer from 1 to 256, got NaN/],
    [{ workers: 1e6 }, /workers must be an integer from 1 to 256, got 1000000/],
    [{ threads: 0 }, /threads must be an integer from 1 to 1024, got 0/],
    [{ port: 70000 }, /port must be an integer from 0 to 65535, got 70000/],
    [{ port: -1 }, /port must be an integer from 0 to 65535, got -1/],
    [{ port: 80.5 }, /port must be an integer from 0 to 65535, got 80.5/],
    [{ queueSize: 0 }, /queueSize must be a positive integer, got 0/],
    [{ queueSize: Number.POSITIVE_INFINITY }, /queueSize must be a positive integer, got Infinity/],
    [{ jobTimeoutSeconds: Number.NaN }, /jobTimeoutSeconds must be from 0.001 to 2147483, got NaN/],
    [{ jobTimeoutSeconds: 0 }, /jobTimeoutSeconds must be from 0.001 to 2147483, got 0/],
    [{ jobTimeoutSeconds: 1e10 }, /jobTimeoutSeconds must be from 0.001 to 2147483, got 10000000000/],
    [{ deadlineSeconds: -1 }, /deadlineSeconds must be from 0.001 to 2147483, got -1/],
    [{ urlTtlSeconds: Number.POSITIVE_INFINITY }, /urlTtlSeconds must be from 0.001 to 2147483, got Infinity/],
    [{ jobTtlSeconds: 0 }, /jobTtlSeconds must be from 0.001 to 2147483, got 0/],
    [{ maxKeptJobs: 2.5 }, /maxKeptJobs must be a positive integer, got 2.5/],
    [{ limits: { maxN: 0 } }, /limits.maxN must be a positive integer, got 0/],
    [{ limits: { uploadBytes: -5 } }, /limits.uploadBytes must be a positive integer, got -5/],
    [{ limits: { requestTimeoutMs: Number.NaN } }, /limits.requestTimeoutMs must be an integer from 1 to 2147483647/],
  ] as [Partial<ServeOptions>, RegExp][]
).map(([bad, message]) => [
  `startServer ${JSON.stringify(bad, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}`,
  () => startServer({ models: {} as never, port: 0, ...bad }),
  message,
]);

/** [what is called, the call, the message it must give]. */
const CASES: [string, () => unknown, RegExp][] = [
  // diffusion
  ["spaceTimesteps steps 0", () => spaceTimesteps(0, ""), /diffusion steps must be a positive integer, got 0/],
  ["betaSchedule steps 1.5", () => betaSchedule("linear", 1.5), /diffusion steps must be a positive integer, got 1.5/],
  [
    "betaSchedule unknown name",
    () => betaSchedule("cubic" as BetaScheduleName, 10),
    /beta schedule must be one of squaredcos_cap_v2, linear, got 'cubic'/,
  ],
  [
    "createSampler unknown sampler",
    () => createSampler(full(), { name: "euler" } as unknown as SamplerSpec),
    /sampler must be one of ddpm, ddim, plms, dpm\+\+2m, got 'euler'/,
  ],
  ["dpmSolverTimesteps steps 0", () => dpmSolverTimesteps(full(), 0), /steps must be an integer from 1 to 100, got 0/],
  [
    "dpmSolverTimesteps spacing",
    () => dpmSolverTimesteps(full(), 5, "karras" as "time"),
    /spacing must be one of time, logSNR, got 'karras'/,
  ],
  ["DdimSampler eta −1", () => new DdimSampler(full(), { eta: -1 }), /DDIM eta must be a non-negative number, got -1/],
  ["Rng seed 0.5", () => new Rng(0.5), /Rng seed must be an integer, got 0.5/],
  // pipelines
  ["pipeline seed −1", () => resolveSeed(-1), /seed must be a non-negative integer, got -1/],
  ["pipeline batch size 0", () => checkBatchSize(0), /batch size must be an integer from 1 to 256, got 0/],
  ["pipeline batch size 257", () => checkBatchSize(257), /batch size must be an integer from 1 to 256, got 257/],
  ["pipeline guidance NaN", () => checkGuidanceScale(Number.NaN), /guidance scale must be from -100 to 100, got NaN/],
  ["pipeline guidance 1000", () => checkGuidanceScale(1000), /guidance scale must be from -100 to 100, got 1000/],
  ["pipeline temperature 0", () => checkTemperature(0), /temperature must be a positive number, got 0/],
  ["pipeline precision", () => checkPrecision("int16"), /precision must be one of fp32, int8, got 'int16'/],
  ["pipeline sampler", () => samplerSpec("euler", 10, stubModel, "base"), /base: unknown sampler 'euler'/],
  ["pipeline steps 0", () => samplerSpec("ddim", 0, stubModel, "base"), /steps must be an integer from 1 to 100/],
  // models
  [
    "validateConfig num_channels 0",
    () => validateConfig({ ...modelAndDiffusionDefaults(), num_channels: 0 }),
    /num_channels must be at least 1, got 0/,
  ],
  ["seededInitializer seed −1", () => seededInitializer(-1), /init seed must be a non-negative integer, got -1/],
  ["paddedTokensAndMask text_ctx −1", () => paddedTokensAndMask([1], -1), /text_ctx must be a non-negative integer/],
  ["catalogModel unknown name", () => catalogModel("nope"), /no model named 'nope'/],
  // training and data
  [
    "lowResFromImages size 3 of 8",
    () => lowResFromImages(new Float32Array(3 * 8 * 8), [1, 3, 8, 8], 3),
    /low-res size 3 must divide the image size 8/,
  ],
  ["train steps 0", () => trainWith({ steps: 0 }), /steps must be a positive integer, got 0/],
  ["train batch size 1.5", () => trainWith({ batchSize: 1.5 }), /batch size must be a positive integer, got 1.5/],
  ["train accumulate 0", () => trainWith({ accumulate: 0 }), /accumulate must be a positive integer, got 0/],
  ["train lr 0", () => trainWith({ lr: 0 }), /learning rate must be a positive number, got 0/],
  ["caption dropout 2", () => dropCaptions(["a"], new Rng(1), 2), /caption dropout must be from 0 to 1, got 2/],
  ["inpaint mask height 0", () => randomInpaintMask(new Rng(1), 0, 4), /mask height must be a positive integer/],
  ["dataset resolution 0", () => resolveOptions({ resolution: 0 }), /resolution must be a positive integer, got 0/],
  ["dataset prefetch 0", () => resolveOptions({ resolution: 8, prefetch: 0 }), /prefetch must be a positive integer/],
  ["splitOf fraction 2", () => splitOf("key", 2), /validation fraction must be from 0 to 1, got 2/],
  [
    "ProcessPool workers 0",
    () => new ProcessPool({ module: "x", workers: 0, timeoutMs: 1 }),
    /workers must be a positive integer, got 0/,
  ],
  ["chooseCaptions k 0", () => chooseCaptions(["a"], 0), /caption count must be a positive integer, got 0/],
  // command line
  ["--steps 0", () => parseSteps("0"), /steps must be at least 1/],
  ["--steps nonsense", () => parseSteps("many"), /expected a step count or a respacing/],
  ["--threads 0", () => parseThreads("0"), /--threads must be a positive integer/],
  ["--seed -1", () => parseSeed("-1"), /seed must be a non-negative integer/],
  ["-n 0", () => parseCount("-n")("0"), /-n must be a positive integer/],
  ["--temp -1", () => parsePositive("--temp")("-1"), /--temp must be positive/],
  ["--workers huge", () => parseCount("--workers")("99999999999999999999"), /--workers must be a positive integer/],
  ...SERVER_CASES,
  [
    "startQueueWorker workers 0",
    () => startQueueWorker({ queue: "redis://127.0.0.1:1", models: {} as never, workers: 0 }),
    /workers must be an integer from 1 to 256, got 0/,
  ],
  [
    "startQueueWorker lockDurationSeconds NaN",
    () => startQueueWorker({ queue: "redis://127.0.0.1:1", models: {} as never, lockDurationSeconds: Number.NaN }),
    /lockDurationSeconds must be from 0\.001 to 2147483, got NaN/,
  ],
];

for (const [what, call, message] of CASES) {
  test(`${what}: a GlideError kind`, async () => {
    await assert.rejects(
      async () => call(),
      (error: unknown) => {
        assert.ok(
          error instanceof GlideError,
          `${what} threw ${(error as Error)?.constructor?.name}, not a GlideError`,
        );
        assert.match(error.message, message);
        return true;
      },
    );
  });
}
