// The shipped weights are checked against models/SHA256SUMS when loaded by name, and a download
// against the digest recorded when it completed: a flipped byte is a clear error, not another model.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isUserError } from "../../src/errors.ts";
import { readDigestList, recordDigest, sha256File, verifyRecordedDigest } from "../../src/io/file-digest.ts";
import { CATALOG, SHIPPED_DIGESTS, shippedModelsDir } from "../../src/models/catalog.ts";
import { tempDir } from "../pipelines/helpers.ts";

test("models/SHA256SUMS holds the digest of every shipped file (after new weights: regenerate it)", async () => {
  const digests = await readDigestList(join(shippedModelsDir(), SHIPPED_DIGESTS));
  for (const model of CATALOG) {
    if (!("shipped" in model.source)) continue;
    const file = model.source.shipped;
    assert.equal(
      digests.get(file),
      await sha256File(join(shippedModelsDir(), file)),
      `models/${SHIPPED_DIGESTS} is stale for ${file}: run \`cd models && sha256sum *.safetensors > ${SHIPPED_DIGESTS}\``,
    );
  }
});

test("a downloaded file with a flipped byte fails its recorded digest; an intact one passes", async () => {
  const dir = tempDir();
  const file = join(dir, "base.pt");
  copyFileSync(join(shippedModelsDir(), "glide-ts-base32.safetensors"), file);
  await recordDigest(file);
  await verifyRecordedDigest(file, "download it again");
  const bytes = readFileSync(file);
  bytes[bytes.length - 10]! ^= 0x40;
  writeFileSync(file, bytes);
  await assert.rejects(
    verifyRecordedDigest(file, "download it again: glide download base --force"),
    (error: Error) =>
      isUserError(error) && /base\.pt is corrupt: its SHA-256 is .*; download it again/.test(error.message),
  );
});
