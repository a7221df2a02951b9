// Which models a server runs (src/server/served-models.ts): given files, or a family's.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { resolveServedModels } from "../../packages/app/src/server/served-models.ts";
import { checkpointPath } from "../../packages/glide-ts/src/download/checkpoints.ts";
import { tempDir } from "../pipelines/helpers.ts";

test("given files: named after the checkpoint, the same models edit; an upsampler only when given", async () => {
  const served = await resolveServedModels({ checkpoint: "/m/my-model.safetensors", config: "/m/c.json" });
  assert.equal(served.id, "my-model");
  assert.deepEqual(served.generate, {
    base: { checkpoint: "/m/my-model.safetensors", preset: undefined, config: "/m/c.json" },
    upsampler: null,
  });
  assert.deepEqual(served.edit, served.generate);
  const up = await resolveServedModels({ checkpoint: "a.pt", upsampler: "b.pt", upsamplerPreset: "upsample" });
  assert.deepEqual(up.generate.upsampler, { checkpoint: "b.pt", preset: "upsample", config: undefined });
  const none = await resolveServedModels({ checkpoint: "a.pt", upsampler: "b.pt", upsample: false });
  assert.equal(none.generate.upsampler, null);
});

test("a family: its generation models must be there; without its inpainting ones, edits are unavailable", async () => {
  const cacheDir = tempDir();
  await assert.rejects(
    resolveServedModels({ family: "glide", cacheDir }),
    /"base" is not downloaded.*--checkpoint PATH/,
  );
  for (const name of ["base", "upsample"]) writeFileSync(checkpointPath(name, cacheDir), "x");
  const served = await resolveServedModels({ family: "glide", cacheDir });
  assert.equal(served.id, "glide");
  assert.deepEqual(served.generate, {
    base: { checkpoint: checkpointPath("base", cacheDir), preset: "base", config: undefined },
    upsampler: { checkpoint: checkpointPath("upsample", cacheDir), preset: "upsample", config: undefined },
  });
  assert.ok("unavailable" in served.edit);
  assert.match(served.edit.unavailable, /edits are not available on this server: .*"base-inpaint" is not downloaded/);
  const small = await resolveServedModels({ family: "glide", cacheDir, upsample: false });
  assert.equal(small.generate.upsampler, null);
  await assert.rejects(resolveServedModels({ family: "nope" }), /unknown model family 'nope'/);
});
