// Float32 weight files that onnxruntime-node reads as external data (the Node WeightStorage): each
// write makes one file in the process's folder under the temporary directory (worker threads write
// there too). A file goes when its owner (a model's parameter store) is garbage collected, the
// folder when the main thread exits; folders left behind by processes that died are removed the
// next time one is made.

import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, unlinkSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { isMainThread, threadId } from "node:worker_threads";
import type { StoredTensor } from "../platform/data-types.ts";
import type { WeightStorage } from "../platform/platform.ts";

/** Each tensor starts on a page boundary, so onnxruntime may map it from the file as it is. */
const ALIGNMENT = 4096;
const PREFIX = "glide-ts-weights-";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the weight folders of processes that are gone (killed before their exit handler ran). */
function removeStaleFolders(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)$`).exec(name)?.[1]);
    if (pid && pid !== process.pid && !isRunning(pid)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.length - done, 1 << 30), position + done);
    done += bytesWritten;
  }
}

/** Files are named by thread and count, so that storages of one process never collide. */
let count = 0;
let gc: (() => void) | null = null;

/** The engine's allocations are invisible to V8, so a full collection is asked for explicitly. */
async function collectGarbage(): Promise<void> {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  // Array buffers are swept after the collection, off the main thread: wait until they stop shrinking.
  let before = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 50; round++) {
    gc();
    await sleep(5);
    const now = process.memoryUsage().arrayBuffers;
    if (now >= before) break;
    before = now;
  }
}

export function createWeightFiles(root: string = tmpdir()): WeightStorage {
  const folder = join(root, `${PREFIX}${process.pid}`);
  let made = false;
  // A terminated worker runs no exit handler: the main thread removes the folder for all of them.
  if (isMainThread) process.once("exit", () => rmSync(folder, { recursive: true, force: true }));
  const removeWhenCollected = new FinalizationRegistry<string>((path) => {
    try {
      unlinkSync(path);
    } catch {
      // already gone with the folder
    }
  });
  const ensureFolder = (): string => {
    if (!made) {
      removeStaleFolders(root);
      mkdirSync(folder, { recursive: true });
      made = true;
    }
    return folder;
  };
  return {
    async write(arrays, owner) {
      const dir = ensureFolder();
      const file = `${threadId}-${count++}.f32`;
      const path = join(dir, file);
      const fh = await open(path, "w");
      const stored: StoredTensor[] = [];
      try {
        let offset = 0;
        for (const array of arrays) {
          stored.push({ folder: dir, file, offset });
          await writeAll(fh, new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
          offset += Math.ceil(array.byteLength / ALIGNMENT) * ALIGNMENT;
        }
      } catch (error) {
        await fh.close();
        rmSync(path, { force: true });
        throw error;
      }
      await fh.close();
      removeWhenCollected.register(owner, path);
      return stored;
    },
    collectGarbage,
    read(stored, length) {
      const values = new Float32Array(length);
      const fd = openSync(join(stored.folder, stored.file), "r");
      try {
        const bytes = new Uint8Array(values.buffer);
        let done = 0;
        while (done < bytes.byteLength) {
          const n = readSync(fd, bytes, done, bytes.byteLength - done, stored.offset + done);
          if (n === 0) throw new Error(`${stored.file}: ends before the tensor at ${stored.offset} does`);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
      return values;
    },
  };
}
