// Optional API keys: `Authorization: Bearer KEY`, from GLIDE_API_KEYS (comma- or space-separated)
// and/or a file (one key a line, # comments). Keys are compared as SHA-256 digests with
// timingSafeEqual, every key every time, so the time taken says nothing about any key.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { GlideError } from "glide-ts";

export const API_KEYS_ENV = "GLIDE_API_KEYS";

const digest = (key: string) => createHash("sha256").update(key, "utf8").digest();

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** No keys: every request is let in. */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /** Whether an Authorization header carries one of the keys. */
  accepts(authorization: string | undefined): boolean {
    const key = bearerKey(authorization);
    if (key === null) return false;
    const candidate = digest(key);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(candidate, known) || found;
    return found;
  }

  /**
   * Who a request is, for what belongs to a caller (its async jobs): the digest of its key ("" for
   * everyone when the server has no keys). Only for requests the key check let in.
   */
  owner(authorization: string | undefined): string {
    if (!this.required) return "";
    return digest(bearerKey(authorization) ?? "").toString("hex");
  }
}

function bearerKey(authorization: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1] ?? null;
}

export function parseKeyList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, ""))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((key) => key !== "");
}

/** The keys of the environment variable and of the file (when given). */
export async function loadApiKeys(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string[]> {
  const keys = parseKeyList((options.env ?? process.env)[API_KEYS_ENV] ?? "");
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(options.file, "utf-8");
    } catch (error) {
      throw new GlideError(`cannot read the API key file ${options.file}: ${(error as Error).message}`);
    }
    const fromFile = parseKeyList(text);
    if (fromFile.length === 0) throw new GlideError(`the API key file ${options.file} holds no key`);
    keys.push(...fromFile);
  }
  return keys;
}
