import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadCheckpointFile } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { loadModel } from "../../packages/glide-ts/src/pipelines/load-model.ts";
import { MetricsLog } from "../../packages/glide-ts/src/train/metrics-log.ts";
import { RUN_FILES, train } from "../../packages/glide-ts/src/train/trainer.ts";
import { fixtureConfig } from "../fixtures.ts";
import { writeSquares } from "./helpers.ts";

const GLIDE = join(process.cwd(), "packages", "app", "bin", "glide.js");

function trainCommand(data: string, out: string, steps: number, extra: string[] = []): string[] {
  return [GLIDE, "train", data, "--out", out, "--config", join(out, "..", "config.json"), "--steps", String(steps)]
    .concat(["--batch", "2", "--accumulate", "2", "--lr", "1e-3", "--save-every", "3", "--ema", "0.9", "--seed", "5"])
    .concat(["--validation-fraction", "0", "--threads", "1", ...extra]);
}

/**
 * Runs node with `args`; with `maxFileKiB`, under `ulimit -f` so that writing any file past that
 * size fails mid-write (EFBIG) the way a full disk does (ENOSPC): a real failed write() syscall.
 */
function run(args: string[], maxFileKiB?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child =
      maxFileKiB === undefined
        ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
        : spawn("bash", ["-c", `ulimit -f ${maxFileKiB} && exec "$0" "$@"`, process.execPath, ...args], {
            stdio: ["ignore", "pipe", "pipe"],
          });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a training run and SIGKILLs it once its log reaches `afterStep`. */
function runAndKill(args: string[], metrics: string, afterStep: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: "ignore" });
    const timer = setInterval(async () => {
      const records = await new MetricsLog(metrics).read();
      if (records.some((r) => r.step >= afterStep)) {
        child.kill("SIGKILL");
        clearInterval(timer);
      }
    }, 20);
    child.on("exit", (code, signal) => {
      clearInterval(timer);
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`the run ended by itself (code ${code}) before it could be killed`));
    });
  });
}

const trainLosses = async (dir: string) =>
  (await new MetricsLog(join(dir, RUN_FILES.metrics)).read()).filter((r) => r.kind === "train").map((r) => r.loss);

test("a run killed with SIGKILL and resumed gives the same losses as one that never stopped", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-resume-"));
  await writeSquares(join(root, "data"));
  await writeFile(join(root, "config.json"), JSON.stringify(fixtureConfig()));
  const data = join(root, "data");

  const straight = await run(trainCommand(data, join(root, "straight"), 10));
  assert.equal(straight.code, 0, straight.stderr);

  const resumed = join(root, "resumed");
  await runAndKill(trainCommand(data, resumed, 10), join(resumed, RUN_FILES.metrics), 5);
  const second = await run(trainCommand(data, resumed, 10));
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /trained steps [3-6]→10/, "the second run resumed from a checkpoint");

  const expected = await trainLosses(join(root, "straight"));
  assert.equal(expected.length, 10, "ten logged steps");
  assert.deepEqual(await trainLosses(resumed), expected, "identical losses, step for step");
  const a = (await loadCheckpointFile(join(root, "straight", RUN_FILES.weights))).stateDict;
  const b = (await loadCheckpointFile(join(resumed, RUN_FILES.weights))).stateDict;
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `EMA weight ${name}`);
});

test("a corrupt image is skipped and counted; bad input gets clear errors", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-train-"));
  const data = join(root, "data");
  await writeSquares(data);
  await writeFile(join(data, "broken.png"), "this is not a png");
  await writeFile(join(data, "broken.txt"), "a broken picture");
  const config = fixtureConfig();
  const summary = await train({
    data,
    outDir: join(root, "run"),
    config,
    steps: 3,
    batchSize: 2,
    lr: 1e-3,
    validationFraction: 0,
    threads: 1,
  });
  assert.equal(summary.step, 3, "three steps");
  assert.ok(summary.skippedImages >= 1, `skipped ${summary.skippedImages}`);
  // The saved weights carry their configuration: they load with no --config.
  const loaded = await loadModel({ checkpoint: summary.weights });
  assert.deepEqual(loaded.model.config, config, "the configuration comes back from the weights' metadata");

  const empty = join(root, "empty");
  await writeSquares(join(root, "unused"));
  await assert.rejects(
    train({ data: empty, outDir: join(root, "run2"), config, steps: 1, batchSize: 2, lr: 1e-3 }),
    /empty|cannot read|no image/i,
  );
  await assert.rejects(
    train({ data: join(root, "missing.jsonl"), outDir: join(root, "run3"), config, steps: 1, batchSize: 2, lr: 1e-3 }),
    /the training data .*missing\.jsonl does not exist/,
  );
  await assert.rejects(stat(join(root, "run3")), "no run folder is left behind by a missing manifest");
  // Resuming with another configuration is refused rather than mixing two models.
  await assert.rejects(
    train({
      data,
      outDir: join(root, "run"),
      config: { ...config, num_res_blocks: 2 },
      steps: 4,
      batchSize: 2,
      lr: 1e-3,
      validationFraction: 0,
      resume: true,
    }),
    /another model configuration/,
  );
  const meta = JSON.parse(await readFile(join(root, "run", RUN_FILES.config), "utf8"));
  assert.equal(meta.num_res_blocks, config.num_res_blocks, "config.json describes the run's model");
});

test("a write that fails mid-checkpoint (a full disk) stops the run clearly and loses nothing", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-full-disk-"));
  await writeSquares(join(root, "data"));
  await writeFile(join(root, "config.json"), JSON.stringify(fixtureConfig()));
  const data = join(root, "data");
  const dir = join(root, "run");
  const checkpoint = join(dir, RUN_FILES.checkpoint);

  const first = await run(trainCommand(data, dir, 6));
  assert.equal(first.code, 0, first.stderr);
  const before = await readFile(checkpoint);
  // The checkpoint (weights, two AdamW moments, EMA) is ~4× the EMA weights file: allow files of
  // ~3× the weights, so the step-9 checkpoint cannot be written.
  const weightsBytes = (await stat(join(dir, RUN_FILES.weights))).size;
  const full = await run(trainCommand(data, dir, 10), Math.ceil((3 * weightsBytes) / 1024));
  assert.notEqual(full.code, 0, "the run fails");
  assert.match(full.stderr, /could not save step 9: .*file too large/);
  assert.match(full.stderr, /Nothing was half-written \(the checkpoint holds step 6\)/);
  assert.deepEqual(await readFile(checkpoint), before, "the step-6 checkpoint is untouched");
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith(".tmp")),
    [],
    "no temporary file is left behind",
  );

  // With room again, the same command resumes from step 6 and logs what an uninterrupted run logs.
  const again = await run(trainCommand(data, dir, 10));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /trained steps 6→10/);
  const straight = await run(trainCommand(data, join(root, "straight"), 10));
  assert.equal(straight.code, 0, straight.stderr);
  assert.deepEqual(await trainLosses(dir), await trainLosses(join(root, "straight")), "identical losses");
});

test("a run's checkpoint loads as a model (its EMA weights); a killed first run's rows are not logged twice", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-train-ckpt-"));
  const data = join(root, "data");
  await writeSquares(data);
  const config = fixtureConfig();
  const outDir = join(root, "run");
  await mkdir(outDir, { recursive: true });
  // Rows a run logged before it died without a checkpoint: a fresh start must not keep them.
  await new MetricsLog(join(outDir, RUN_FILES.metrics)).append({ step: 1, kind: "train", loss: 123 });
  const summary = await train({
    data,
    outDir,
    config,
    steps: 2,
    batchSize: 2,
    lr: 1e-3,
    validationFraction: 0,
    threads: 1,
  });
  const rows = await new MetricsLog(join(outDir, RUN_FILES.metrics)).read();
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2],
    "one row per step",
  );
  assert.ok(
    rows.every((r) => r.loss !== 123),
    "the dead run's row is gone",
  );

  const fromCheckpoint = await loadModel({ checkpoint: summary.checkpoint });
  const fromWeights = await loadModel({ checkpoint: summary.weights });
  assert.deepEqual(fromCheckpoint.model.config, config, "the checkpoint's configuration is used");
  for (const [name, p] of fromWeights.model.params.params) {
    const a = (p.attrs as { value: Float32Array }).value;
    const b = (fromCheckpoint.model.params.params.get(name)!.attrs as { value: Float32Array }).value;
    assert.deepEqual(b, a, `${name}: the checkpoint's EMA equals ema.safetensors`);
  }
});

test("a resumed one-step run reports its real rate", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-train-rate-"));
  await writeSquares(join(root, "data"));
  await writeFile(join(root, "config.json"), JSON.stringify(fixtureConfig()));
  const out = join(root, "run");
  assert.equal((await run(trainCommand(join(root, "data"), out, 3))).code, 0);
  const resumed = await run(trainCommand(join(root, "data"), out, 4));
  assert.equal(resumed.code, 0, resumed.stderr);
  const rate = /training: 1 steps? in .*?\(([\d.]+) steps\/s/.exec(resumed.stderr);
  assert.ok(rate, resumed.stderr);
  assert.ok(Number(rate[1]) < 100, `one step of a real model takes more than 10 ms: ${rate[1]} steps/s`);
});

test("an AbortSignal stops a training run between steps: saved, CancelledError, resumable", async () => {
  const { CancelledError } = await import("../../packages/glide-ts/src/errors.ts");
  const root = await mkdtemp(join(tmpdir(), "glide-train-abort-"));
  const data = join(root, "data");
  await writeSquares(data);
  const controller = new AbortController();
  const options = { data, outDir: join(root, "run"), config: fixtureConfig(), steps: 6, batchSize: 2, lr: 1e-3 };
  const run = train({
    ...options,
    validationFraction: 0,
    threads: 1,
    signal: controller.signal,
    onStep: (p) => {
      if (p.step === 2) controller.abort();
    },
  });
  await assert.rejects(run, (e) => e instanceof CancelledError && /step 2/.test(e.message));
  const resumed = await train({ ...options, validationFraction: 0, threads: 1, resume: true });
  assert.equal(resumed.startStep, 2, "the aborted run saved step 2");
  assert.equal(resumed.step, 6);
});

test("resume removes the temporary files that saves killed mid-write left in the run folder", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-train-temps-"));
  await writeSquares(join(root, "data"));
  await writeFile(join(root, "config.json"), JSON.stringify(fixtureConfig()));
  const out = join(root, "run");
  assert.equal((await run(trainCommand(join(root, "data"), out, 3))).code, 0);
  // What SIGKILLs during three saves leave behind (by a process that no longer runs); a file of the
  // user's is left alone.
  const dead = spawnSync(process.execPath, ["-e", ""]).pid;
  const orphans = [
    `.checkpoint.safetensors.${dead}.0badf00d.tmp`,
    `.ema.safetensors.${dead}.deadbeef.tmp`,
    "metrics.jsonl.tmp",
  ];
  for (const name of orphans) await writeFile(join(out, name), Buffer.alloc(1024));
  await writeFile(join(out, "notes.tmp"), "mine");
  const resumed = await run(trainCommand(join(root, "data"), out, 4));
  assert.equal(resumed.code, 0, resumed.stderr);
  const left = await readdir(out);
  for (const name of orphans) assert.ok(!left.includes(name), `${name} is removed`);
  assert.ok(left.includes("notes.tmp"), "other files stay");
});
