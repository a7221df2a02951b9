// The four network variants against the reference implementation's outputs on the parity
// fixtures: text encoder (xf_proj, xf_out) and U-Net (eps and variance channels).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { resolveConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { readSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { loadTorchCheckpoint } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import type { HostArray } from "../../packages/glide-ts/src/runtime/session.ts";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";

const TOLERANCE = 1e-4;

interface ModelCase {
  config: Record<string, unknown>;
  checkpoint: string;
  io: string;
  params: number;
}
const manifest = fixtureManifest<{
  cases: Record<string, ModelCase>;
}>();

function maxAbsError(actual: HostArray, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(Number(actual[i]) - expected[i]!));
  return m;
}

for (const name of ["text2im", "inpaint", "superres", "superres_inpaint"]) {
  test(`forward parity: ${name}`, async () => {
    const c = manifest.cases[name]!;
    const config = resolveConfig(c.config);
    const model = GlideModel.fromStateDict(
      config,
      await loadTorchCheckpoint(join(FIXTURES, c.checkpoint)),
      c.checkpoint,
    );
    assert.equal(model.params.count(), c.params);
    const io = await readSafetensors(join(FIXTURES, c.io));
    const batch = io.shape("x")[0]!;

    const text = await model.compileTextEncoder(batch, { threads: 1 });
    const { xf_proj, xf_out } = await text.run({
      tokens: io.get("tokens").data as BigInt64Array,
      mask: io.get("mask").data as Uint8Array,
    });
    const unet = await model.compileUNet(batch, {
      threads: 1,
      lowResSize: io.has("low_res") ? io.shape("low_res")[2] : undefined,
    });
    const feeds: Record<string, HostArray> = {
      x: io.float32("x"),
      timesteps: Float32Array.from(io.get("t").data as BigInt64Array, Number),
      xf_proj: xf_proj!,
      xf_out: xf_out!,
    };
    for (const key of ["inpaint_image", "inpaint_mask", "low_res"]) if (io.has(key)) feeds[key] = io.float32(key);
    const { out } = await unet.run(feeds);

    const errors = {
      xf_proj: maxAbsError(xf_proj!, io.float32("expected.xf_proj")),
      xf_out: maxAbsError(xf_out!, io.float32("expected.xf_out")),
      out: maxAbsError(out!, io.float32("expected.out")),
    };
    for (const [what, err] of Object.entries(errors)) {
      assert.ok(err <= TOLERANCE, `${name} ${what}: max abs error ${err} > ${TOLERANCE}`);
    }
    await text.release();
    await unet.release();
  });
}
