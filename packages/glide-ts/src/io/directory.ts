// Making sure a directory exists and takes new files, with errors that say which part refused.
//
// fs.mkdir({ recursive: true }) is not used: on Node 20 it never settles when a parent exists but
// refuses the new entry with ENOENT (anywhere under /proc), and it retries on a pool thread that no
// JavaScript can stop. One mkdir per missing level fails at once instead.

import { randomBytes } from "node:crypto";
import { mkdir, open, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { GlideError } from "../errors.ts";

/** Creates `dir` and its missing parents; throws a GlideError naming the path that refused. */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    const kind = await pathKind(current);
    if (kind === "directory") break;
    if (kind === "other") throw new GlideError(`${current} is not a directory`);
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) throw new GlideError(`${current} does not exist`);
    current = parent;
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path);
    } catch (error) {
      // Another process may have made it meanwhile.
      if (code(error) === "EEXIST" && (await pathKind(path)) === "directory") continue;
      throw new GlideError(refusal(error, dirname(path), "directories", `mkdir ${path}`));
    }
  }
}

/** Throws a GlideError unless a file can be created in the existing directory `dir` (tried, then removed). */
export async function checkWritableDirectory(dir: string): Promise<void> {
  const probe = join(dir, `.glide-write-test-${randomBytes(4).toString("hex")}`);
  try {
    await (await open(probe, "wx")).close();
  } catch (error) {
    throw new GlideError(refusal(error, dir, "files", `cannot write in ${dir}`));
  }
  await unlink(probe).catch(() => {});
}

/** What is at `path`: a directory, something else, or nothing (also when a parent is not a directory). */
export async function pathKind(path: string): Promise<"directory" | "other" | "missing"> {
  try {
    return (await stat(path)).isDirectory() ? "directory" : "other";
  } catch (error) {
    const c = code(error);
    if (c === "ENOENT" || c === "ENOTDIR") return "missing";
    throw new GlideError(`cannot look at ${path}: ${(error as Error).message}`);
  }
}

function refusal(error: unknown, parent: string, what: "files" | "directories", fallback: string): string {
  switch (code(error)) {
    case "ENOENT":
      return `${parent} does not accept new ${what}`;
    case "EACCES":
    case "EPERM":
      return `no permission to create ${what} in ${parent}`;
    case "EROFS":
      return `${parent} is on a read-only file system`;
    case "ENOSPC":
      return `no space left on the device of ${parent}`;
    default:
      return `${fallback}: ${(error as Error).message}`;
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
