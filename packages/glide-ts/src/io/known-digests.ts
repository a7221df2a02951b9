// The digest a model file is checked against when it is loaded, wherever it is loaded from (by
// name, by path, as a CLIP tower): a download's, recorded beside it when it completed (FILE.sha256),
// and the shipped weights', in models/SHA256SUMS — the one place to update when new weights are
// committed (`cd models && sha256sum *.safetensors > SHA256SUMS`; a test fails while it is stale).
// Other files have no known digest: their integrity is the format's (the zip CRCs of a .pt).
import { realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestPath, readDigestList, verifyDigest } from "./file-digest.ts";
import { CHECKPOINT_NAMES, CHECKPOINTS } from "./released-files.ts";

/** The shipped weights' SHA-256 digests, a file in models/ in `sha256sum` form. */
export const SHIPPED_DIGESTS = "SHA256SUMS";

/** The folder of the shipped weights (the repository's, or the installed package's, models/). */
export function shippedModelsDir(): string {
  return fileURLToPath(new URL("../../models/", import.meta.url));
}

export interface KnownDigest {
  sha256: string;
  /** Where the digest is recorded. */
  recordedIn: string;
  /** How to get a good copy of the file. */
  remedy: string;
}

/** The digest `path` must have, or null when none is known. */
export async function knownDigest(path: string): Promise<KnownDigest | null> {
  const real = await realpath(path).catch(() => null);
  if (real === null) return null;
  const name = basename(real);
  const sidecar = digestPath(real);
  const recorded = (await readDigestList(sidecar).catch(() => null))?.get(name);
  if (recorded) {
    const release = CHECKPOINT_NAMES.find((n) => CHECKPOINTS[n].file === name);
    const remedy = release
      ? `download it again: glide download ${release} --force`
      : `replace it with a good copy (or delete ${sidecar} if the file was changed on purpose)`;
    return { sha256: recorded, recordedIn: sidecar, remedy };
  }
  const shipped = await realpath(shippedModelsDir()).catch(() => null);
  if (shipped !== null && dirname(real) === shipped) {
    const list = join(shipped, SHIPPED_DIGESTS);
    const digest = (await readDigestList(list).catch(() => null))?.get(name);
    if (digest) {
      return {
        sha256: digest,
        recordedIn: list,
        remedy: `reinstall glide-ts (or, in a clone, git checkout models/${name})`,
      };
    }
  }
  return null;
}

/** Checks `path` against its known digest, if it has one (see knownDigest): a CheckpointError when corrupt. */
export async function verifyKnownDigest(path: string): Promise<void> {
  const known = await knownDigest(path);
  if (known) await verifyDigest(path, known.sha256, known.remedy);
}
