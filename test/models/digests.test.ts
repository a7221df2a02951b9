// The shipped weights are checked against models/SHA256SUMS when loaded by name, and a download
// against the digest recorded when it completed: a flipped byte is a clear error, not another model.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isUserError } from "../../packages/glide-ts/src/errors.ts";
import {
  readDigestList,
  recordDigest,
  sha256File,
  verifyRecordedDigest,
} from "../../packages/glide-ts/src/io/file-digest.ts";
import { knownDigest } from "../../packages/glide-ts/src/io/known-digests.ts";
import { CATALOG, SHIPPED_DIGESTS, shippedModelsDir } from "../../packages/glide-ts/src/models/catalog.ts";
import { tempDir } from "../pipelines/helpers.ts";

test("packages/glide-ts/models/SHA256SUMS holds the digest of every shipped file (after new weights: regenerate it)", async () => {
  const digests = await readDigestList(join(shippedModelsDir(), SHIPPED_DIGESTS));
  for (const model of CATALOG) {
    if (!("shipped" in model.source)) continue;
    const file = model.source.shipped;
    assert.equal(
      digests.get(file),
      await sha256File(join(shippedModelsDir(), file)),
      `packages/glide-ts/models/${SHIPPED_DIGESTS} is stale for ${file}: run \`cd models && sha256sum *.safetensors > ${SHIPPED_DIGESTS}\``,
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

test("a shipped model has its digest however its path is spelled; a file of the user's has none", async () => {
  const digests = await readDigestList(join(shippedModelsDir(), SHIPPED_DIGESTS));
  const link = join(tempDir(), "linked.safetensors");
  symlinkSync(join(shippedModelsDir(), "glide-ts-upsample128.safetensors"), link);
  for (const [path, file] of [
    ["packages/glide-ts/models/glide-ts-base32.safetensors", "glide-ts-base32.safetensors"],
    ["./packages/glide-ts/models/../models/glide-ts-base32.safetensors", "glide-ts-base32.safetensors"],
    [link, "glide-ts-upsample128.safetensors"],
  ] as const) {
    const known = await knownDigest(path);
    assert.equal(known?.sha256, digests.get(file), path);
    assert.match(known!.remedy, new RegExp(`reinstall glide-ts .*git checkout models/${file}`));
  }
  const copy = join(tempDir(), "glide-ts-base32.safetensors");
  copyFileSync(join(shippedModelsDir(), "glide-ts-base32.safetensors"), copy);
  assert.equal(await knownDigest(copy), null);
});

test("loading a file by path checks its recorded digest: a flipped weight byte is one clear line", async () => {
  const cache = tempDir();
  const file = join(cache, "upsample.pt");
  // A safetensors file under a released name (formats are told apart by their bytes).
  copyFileSync(join(shippedModelsDir(), "glide-ts-base32.safetensors"), file);
  await recordDigest(file);
  const bytes = readFileSync(file);
  bytes[bytes.length - 100]! ^= 0x01; // the last bit of a float16 weight: still finite, another model
  writeFileSync(file, bytes);
  const generate = (...args: string[]) =>
    spawnSync(process.execPath, ["packages/app/bin/glide.js", "generate", "red heart", "--steps", "2", ...args], {
      encoding: "utf-8",
      env: { ...process.env, GLIDE_CACHE: cache, GLIDE_DEBUG: "" },
    });
  const out = join(cache, "never.png");
  for (const run of [
    generate("--checkpoint", file, "--no-upsample", "--out", out),
    generate("--upsampler", file, "--out", out),
  ]) {
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(
      run.stderr,
      /^glide: .*upsample\.pt is corrupt: its SHA-256 is [0-9a-f]{16}…, expected [0-9a-f]{16}…; download it again: glide download upsample --force$/m,
    );
  }
});
