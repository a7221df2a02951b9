// CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz), which the noised CLIP's tokenizer needs.
// The original ships it inside its Python package; glide-ts does not carry a copy: it is fetched
// into the cache beside the CLIP checkpoints, and checked byte for byte (size and SHA-256) before
// it takes its final name.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { defaultCacheDir } from "./cache-dir.ts";
import {
  type CheckpointName,
  DownloadError,
  type DownloadOptions,
  type DownloadResult,
  downloadFile,
  type FileStatus,
  fileStatus,
  formatBytes,
} from "./checkpoints.ts";

/** The file as glide-text2im ships it (commit 69b5307, glide_text2im/tokenizer/; the same as CLIP's). */
export const CLIP_VOCABULARY = {
  name: "clip vocabulary",
  file: "bpe_simple_vocab_16e6.txt.gz",
  bytes: 1_356_917,
  sha256: "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a",
  url: "https://raw.githubusercontent.com/openai/glide-text2im/69b530740eb6cef69442d6180579ef5ba9ef063e/glide_text2im/tokenizer/bpe_simple_vocab_16e6.txt.gz",
} as const;

/** The checkpoints that cannot be used without the vocabulary. */
export function needsClipVocabulary(name: CheckpointName): boolean {
  return name === "clip/image-enc" || name === "clip/text-enc";
}

export function clipVocabularyPath(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, CLIP_VOCABULARY.file);
}

/** Where the vocabulary comes from: an explicit URL, else `$GLIDE_CLIP_VOCAB_URL`, else GitHub. */
export function resolveClipVocabularyUrl(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = explicit || env.GLIDE_CLIP_VOCAB_URL || CLIP_VOCABULARY.url;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError(`CLIP vocabulary URL "${raw}" is not a URL (expected http://… or https://…)`, "bad-url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DownloadError(`CLIP vocabulary URL "${raw}" must use http or https`, "bad-url");
  }
  return url.href;
}

/** Why the file at `path` is not the vocabulary, or null when it is. */
async function mismatch(path: string): Promise<string | null> {
  const bytes = await readFile(path);
  if (bytes.length !== CLIP_VOCABULARY.bytes) {
    return `${formatBytes(bytes.length)} instead of ${formatBytes(CLIP_VOCABULARY.bytes)}`;
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return sha256 === CLIP_VOCABULARY.sha256
    ? null
    : `SHA-256 ${sha256.slice(0, 12)}… instead of ${CLIP_VOCABULARY.sha256.slice(0, 12)}…`;
}

export interface ClipVocabularyOptions extends Omit<DownloadOptions, "baseUrl"> {
  /** Default: `$GLIDE_CLIP_VOCAB_URL`, else the glide-text2im repository's copy on GitHub. */
  url?: string;
}

/** Downloads the vocabulary into the cache (a cached copy is checked, not fetched again). */
export async function downloadClipVocabulary(options: ClipVocabularyOptions = {}): Promise<DownloadResult> {
  const url = resolveClipVocabularyUrl(options.url);
  const path = clipVocabularyPath(options.cacheDir);
  const verify = async (file: string) => {
    const wrong = await mismatch(file);
    if (wrong) throw new DownloadError(`${url} is not CLIP's vocabulary file (${wrong})`, "invalid");
  };
  const result = await downloadFile({ name: CLIP_VOCABULARY.name, url, path, verify }, options);
  if (result.status === "cached") {
    const wrong = await mismatch(path);
    if (wrong) {
      throw new DownloadError(
        `${path} is not CLIP's vocabulary file (${wrong}); download it again with --force`,
        "invalid",
      );
    }
  }
  return result;
}

/** Whether the vocabulary is in the cache. */
export function clipVocabularyStatus(cacheDir: string = defaultCacheDir()): Promise<FileStatus> {
  return fileStatus(clipVocabularyPath(cacheDir));
}
