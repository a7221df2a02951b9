// One training process per run folder: two runs writing the same checkpoint, EMA weights and
// metrics would interleave their steps. The lock is a file holding the owner's pid, taken with an
// exclusive create; a lock left by a killed run (its pid no longer runs) is taken over.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { GlideError } from "../errors.ts";

export const RUN_LOCK = "train.lock";

export interface RunLock {
  release(): Promise<void>;
}

export async function lockRunFolder(outDir: string): Promise<RunLock> {
  const path = join(outDir, RUN_LOCK);
  if (!(await tryCreate(path))) {
    const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && isOtherLiveProcess(owner)) {
      throw new GlideError(
        `${outDir} is being trained by process ${owner}; stop that run first or choose another --out`,
      );
    }
    await rm(path, { force: true });
    // Another process that found the same stale lock may have taken it in between.
    if (!(await tryCreate(path))) {
      throw new GlideError(`${outDir} was just taken by another training process; choose another --out`);
    }
  }
  return { release: () => rm(path, { force: true }) };
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const file = await open(path, "wx");
    await file.writeFile(`${process.pid}\n`);
    await file.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Whether `pid` is a running process other than this one. */
export function isOtherLiveProcess(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
