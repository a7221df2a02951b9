// SHA-256 digests of model files: the shipped weights' are recorded in models/SHA256SUMS, a
// download's beside it (FILE.sha256) once it completes; loading either checks the file against its
// digest, so a flipped byte on disk is an error instead of a silently different model. A file's
// check is remembered for its size and modification time, so a process hashes each file once.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { CheckpointError } from "./errors.ts";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Digests in `sha256sum` form ("HEX  NAME" a line), by file name. */
export function parseDigestList(text: string): Map<string, string> {
  const digests = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) digests.set(basename(match[2]!), match[1]!);
  }
  return digests;
}

export async function readDigestList(path: string): Promise<Map<string, string>> {
  return parseDigestList(await readFile(path, "utf8"));
}

const verified = new Map<string, string>();

/**
 * Throws a CheckpointError when `path`'s SHA-256 is not `expected`; `remedy` says how to get a good
 * copy.
 */
export async function verifyDigest(path: string, expected: string, remedy: string): Promise<void> {
  const { size, mtimeMs } = await stat(path);
  const key = `${path}\0${size}\0${mtimeMs}`;
  if (verified.get(key) === expected) return;
  const actual = await sha256File(path);
  if (actual !== expected) {
    throw new CheckpointError(
      `${path} is corrupt: its SHA-256 is ${actual.slice(0, 16)}…, expected ${expected.slice(0, 16)}…; ${remedy}`,
    );
  }
  verified.set(key, expected);
}

/** Where a download's digest is kept. */
export const digestPath = (path: string) => `${path}.sha256`;

/** Records a downloaded file's digest beside it. */
export async function recordDigest(path: string): Promise<void> {
  await writeFile(digestPath(path), `${await sha256File(path)}  ${basename(path)}\n`);
}

/** Checks a downloaded file against the digest recorded beside it (none recorded: nothing to check). */
export async function verifyRecordedDigest(path: string, remedy: string): Promise<void> {
  let recorded: Map<string, string>;
  try {
    recorded = await readDigestList(digestPath(path));
  } catch {
    return;
  }
  const expected = recorded.get(basename(path));
  if (expected) await verifyDigest(path, expected, remedy);
}
