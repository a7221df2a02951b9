// The Node weight files: page-aligned float32 tensors in a folder of the process, removed when the
// process exits; folders of processes that died are removed by the next one.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createWeightFiles } from "../../packages/glide-ts/src/io/weight-files.ts";

test("each tensor is written at a page boundary, in order, as little-endian float32", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "weight-files-test-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const arrays = [Float32Array.from([1, 2, 3]), new Float32Array(2000).fill(-0.5), Float32Array.from([7])];
  const stored = await createWeightFiles(root).write(arrays, {});
  assert.deepEqual(
    stored.map((s) => s.offset),
    [0, 4096, 12288],
  );
  assert.equal(new Set(stored.map((s) => `${s.folder}/${s.file}`)).size, 1, "one file");
  const bytes = readFileSync(join(stored[0]!.folder, stored[0]!.file));
  stored.forEach((s, i) => {
    const values = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + s.offset, bytes.byteOffset + s.offset + arrays[i]!.byteLength),
    );
    assert.deepEqual(values, arrays[i]);
  });
});

test("the folder goes when the process exits, and folders of dead processes go with the next write", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "weight-files-test-"));
  const scripts = mkdtempSync(join(tmpdir(), "weight-files-worker-"));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(scripts, { recursive: true, force: true });
  });
  const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  // A worker thread writes into the process's folder too, and is terminated (it runs no exit handler).
  const writer = join(scripts, "writer.ts");
  writeFileSync(
    writer,
    `import { parentPort } from "node:worker_threads";
     import { createWeightFiles } from ${url("../../packages/glide-ts/src/io/weight-files.ts")};
     createWeightFiles(${JSON.stringify(root)})
       .write([new Float32Array(4)], {})
       .then(() => parentPort!.postMessage("written"));
     setInterval(() => {}, 1000);`,
  );
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import { readdirSync } from "node:fs";
       import { createWeightFiles } from ${url("../../packages/glide-ts/src/io/weight-files.ts")};
       import { startWorker } from ${url("../../packages/glide-ts/src/runtime/worker.ts")};
       const [s] = await createWeightFiles(${JSON.stringify(root)}).write([new Float32Array(4)], {});
       const worker = startWorker(new URL(${JSON.stringify(`file://${writer}`)}), null);
       await new Promise((resolve) => worker.once("message", resolve));
       await worker.terminate();
       console.log(s.folder, readdirSync(s.folder).length);`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(child.status, 0, child.stderr);
  const [folder, files] = child.stdout.trim().split(" ");
  assert.equal(files, "2", "the main thread's file and the worker's");
  assert.ok(!existsSync(folder!), "removed at exit");

  const stale = join(root, `glide-ts-weights-${child.pid}`);
  mkdirSync(stale);
  await createWeightFiles(root).write([new Float32Array(4)], {});
  assert.ok(!existsSync(stale), "a dead process's folder is removed");
  assert.equal(readdirSync(root).length, 1, "only this process's folder is left");
});
