// The run folder: a run that fails before it writes anything leaves no folder behind, a write that
// fails names its file, and a resumed run removes the temporary files of killed saves (but not
// those of a process still writing there); one process trains a folder at a time.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { GlideError } from "../../packages/glide-ts/src/errors.ts";
import { GlideConfigError } from "../../packages/glide-ts/src/glide/config.ts";
import { MetricsLog } from "../../packages/glide-ts/src/train/metrics-log.ts";
import { RUN_LOCK } from "../../packages/glide-ts/src/train/run-lock.ts";
import { RUN_FILES, train } from "../../packages/glide-ts/src/train/trainer.ts";
import { fixtureConfig } from "../fixtures.ts";
import { writeSquares } from "./helpers.ts";

const options = { steps: 1, batchSize: 2, lr: 1e-3, validationFraction: 0, threads: 1 };

test("a run that fails before it writes anything removes the folders it made", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-run-folder-"));
  const config = fixtureConfig();
  // Data that exists but holds no pair: found out only once the dataset is opened, in the folder.
  const empty = join(root, "empty");
  await mkdir(empty);
  const out = join(root, "runs", "first");
  await assert.rejects(train({ ...options, data: empty, outDir: out, config }), /empty|no image|no pairs/i);
  await assert.rejects(stat(join(root, "runs")), "runs/ and runs/first are removed");
  // A folder that was there before is kept, and so is everything in it.
  const mine = join(root, "mine");
  await mkdir(mine);
  await writeFile(join(mine, "notes.txt"), "mine");
  await assert.rejects(train({ ...options, data: empty, outDir: mine, config }), /empty|no image|no pairs/i);
  assert.deepEqual((await readdir(mine)).sort(), ["notes.txt"]);
  // A configuration too large to train is refused before the folder is made.
  const huge = { ...config, num_channels: 1024, channel_mult: "16,16" };
  await assert.rejects(
    train({ ...options, data: empty, outDir: join(root, "huge"), config: huge }),
    (error: Error) => error instanceof GlideConfigError && /billion parameters/.test(error.message),
  );
  await assert.rejects(stat(join(root, "huge")));
});

test("a write that fails names its file", { skip: !existsSync("/dev/full") }, async () => {
  // /dev/full answers every write with ENOSPC, as a full disk does.
  await assert.rejects(
    new MetricsLog("/dev/full").append({ step: 1, kind: "train", loss: 1 }),
    /^GlideError: cannot write \/dev\/full: ENOSPC/,
  );
  const root = await mkdtemp(join(tmpdir(), "glide-run-folder-"));
  await writeSquares(join(root, "data"));
  const out = join(root, "run");
  await mkdir(out);
  await symlink("/dev/full", join(out, RUN_FILES.config));
  await assert.rejects(
    train({ ...options, data: join(root, "data"), outDir: out, config: fixtureConfig() }),
    (error: Error) => error.message.startsWith(`cannot write ${join(out, RUN_FILES.config)}: ENOSPC`),
  );
});

test("a run removes the temporary files of killed saves, but not those of a process still running", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-run-folder-"));
  await writeSquares(join(root, "data"));
  const out = join(root, "run");
  await mkdir(join(out, RUN_FILES.samples), { recursive: true });
  const dead = spawnSync(process.execPath, ["-e", ""]).pid;
  const alive = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  try {
    const stale = [
      `.checkpoint.safetensors.${dead}.0badf00d.tmp`,
      `.ema.safetensors.${dead}.deadbeef.tmp`,
      "metrics.jsonl.tmp",
      join(RUN_FILES.samples, ".step-000003.png.a1b2c3d4.tmp"),
    ];
    const kept = [`.checkpoint.safetensors.${alive.pid}.12345678.tmp`, "notes.tmp", ".checkpoint.safetensors.tmp"];
    for (const name of [...stale, ...kept]) await writeFile(join(out, name), Buffer.alloc(1024));
    await train({ ...options, data: join(root, "data"), outDir: out, config: fixtureConfig() });
    for (const name of stale) assert.ok(!existsSync(join(out, name)), `${name} is removed`);
    for (const name of kept) assert.ok(existsSync(join(out, name)), `${name} stays`);
  } finally {
    alive.kill();
  }
});

test("one run per folder: a folder another process trains is refused untouched; a killed run's lock is taken over", async () => {
  const root = await mkdtemp(join(tmpdir(), "glide-run-folder-"));
  await writeSquares(join(root, "data"));
  const out = join(root, "run");
  await mkdir(out);
  const alive = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  try {
    await writeFile(join(out, RUN_LOCK), `${alive.pid}\n`);
    await assert.rejects(
      train({ ...options, data: join(root, "data"), outDir: out, config: fixtureConfig() }),
      (error: Error) => error instanceof GlideError && error.message.includes(`being trained by process ${alive.pid}`),
    );
    assert.deepEqual(await readdir(out), [RUN_LOCK], "nothing written beside the other run's lock");
    assert.equal(await readFile(join(out, RUN_LOCK), "utf8"), `${alive.pid}\n`, "its lock stays");
  } finally {
    alive.kill();
  }
  const dead = spawnSync(process.execPath, ["-e", ""]).pid;
  await writeFile(join(out, RUN_LOCK), `${dead}\n`);
  const summary = await train({ ...options, data: join(root, "data"), outDir: out, config: fixtureConfig() });
  assert.equal(summary.step, 1);
  assert.ok(!existsSync(join(out, RUN_LOCK)), "the lock is released when the run ends");
});
