// --out never names a file the command reads or a named model's file: the shipped weights and their
// digests, a download and its recorded digest, CLIP's files — whether or not the run uses them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkOutputPath, modelFileInputs } from "../../packages/app/src/cli/output-path.ts";
import { isUserError } from "../../packages/glide-ts/src/errors.ts";
import { shippedModelsDir } from "../../packages/glide-ts/src/models/catalog.ts";
import { tempDir } from "../pipelines/helpers.ts";

const refused = (what: RegExp) => (error: Error) => isUserError(error) && what.test(error.message);

test("--out is never a shipped model, its digests, or a CLIP file given to the command", async () => {
  const models = shippedModelsDir();
  const before = readFileSync(join(models, "glide-ts-base32.safetensors"));
  await assert.rejects(
    checkOutputPath(join(models, "glide-ts-base32.safetensors"), 1, modelFileInputs({})),
    refused(/is the input model file of glide-ts-base32 /),
  );
  // Spelled relatively (the tests run in the repository's root).
  await assert.rejects(
    checkOutputPath("./packages/glide-ts/models/../models/glide-ts-upsample128.safetensors", 1, modelFileInputs({})),
    refused(/glide-ts-upsample128\.safetensors is the input model file of glide-ts-upsample128/),
  );
  await assert.rejects(
    checkOutputPath(join(models, "SHA256SUMS"), 1, modelFileInputs({})),
    refused(/is the input shipped models' digests/),
  );
  const dir = tempDir();
  // One of the numbered names of a batch (out-2.png …).
  const checkpoint = join(dir, "m-2.png");
  await assert.rejects(
    checkOutputPath(join(dir, "m.png"), 3, modelFileInputs({ checkpoint })),
    refused(/m-2\.png is the input checkpoint/),
  );
  const vocab = join(dir, "vocab.txt.gz");
  const clipConfig = join(dir, "clip.json");
  await assert.rejects(checkOutputPath(vocab, 1, modelFileInputs({ clipVocab: vocab })), refused(/CLIP vocabulary/));
  await assert.rejects(
    checkOutputPath(clipConfig, 1, modelFileInputs({ clipConfig })),
    refused(/is the input CLIP config/),
  );
  assert.equal(await checkOutputPath(join(dir, "fine.png"), 2, modelFileInputs({})), join(dir, "fine.png"));
  assert.deepEqual(readFileSync(join(models, "glide-ts-base32.safetensors")), before);
});

test("glide generate --model glide --out CACHE/base.pt is refused before anything loads, the file untouched", () => {
  const cache = tempDir();
  const base = join(cache, "base.pt");
  writeFileSync(base, "the released base model");
  for (const out of [base, `${base}.sha256`]) {
    const run = spawnSync(
      process.execPath,
      ["packages/app/bin/glide.js", "generate", "x", "--model", "glide", "--out", out],
      {
        encoding: "utf-8",
        env: { ...process.env, GLIDE_CACHE: cache, GLIDE_DEBUG: "" },
      },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /^glide: --out .* is the input (model file|recorded digest) of base '/);
  }
  assert.equal(readFileSync(base, "utf8"), "the released base model");
});
