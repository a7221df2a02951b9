// xf_pool "token" and "mean" (our extensions): transformer_proj reads each caption's last token, or
// the mean of its tokens, instead of the last position; the transformer's outputs are GLIDE's. Checked on the fixture text2im weights.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { GlideConfigError, resolveConfig, sameConfig, storedConfig } from "../../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { tokenizeCaption } from "../../packages/glide-ts/src/glide/tokenizer.ts";
import { loadTorchCheckpoint } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";

const c = fixtureManifest<{ cases: Record<string, { config: Record<string, unknown>; checkpoint: string }> }>().cases
  .text2im!;

async function encode(pool: string, captions: string[]) {
  const config = resolveConfig({ ...c.config, xf_pool: pool });
  const weights = await loadTorchCheckpoint(join(FIXTURES, c.checkpoint));
  const model = GlideModel.fromStateDict(config, weights, c.checkpoint);
  const ctx = config.text_ctx;
  const tokens = new BigInt64Array(captions.length * ctx);
  const mask = new Uint8Array(captions.length * ctx);
  const lengths = captions.map((caption, n) => {
    const t = tokenizeCaption(caption, ctx);
    t.tokens.forEach((id, i) => {
      tokens[n * ctx + i] = BigInt(id);
      mask[n * ctx + i] = t.mask[i] ? 1 : 0;
    });
    return t.mask.filter(Boolean).length;
  });
  const session = await model.compileTextEncoder(captions.length, { threads: 1 });
  try {
    const out = await session.run({ tokens, mask });
    return { config, weights, lengths, xfProj: out.xf_proj as Float32Array, xfOut: out.xf_out as Float32Array };
  } finally {
    await session.release();
  }
}

test("xf_pool token: transformer_proj of each caption's last token (the last position when empty)", async () => {
  const ctx = resolveConfig(c.config).text_ctx;
  // Short, empty, and one caption that fills the whole context.
  const long = Array.from({ length: ctx + 4 }, (_, i) => `w${i}`).join(" ");
  const captions = ["red heart", "", "a dot on the left side of a square", long];
  const token = await encode("token", captions);
  const position = await encode("position", captions);
  assert.deepEqual(token.xfOut, position.xfOut, "the pooling changes only xf_proj");

  const width = token.config.xf_width;
  const outWidth = 4 * token.config.num_channels;
  const w = token.weights.get("transformer_proj.weight")!;
  const b = token.weights.get("transformer_proj.bias")!;
  assert.equal(token.lengths[0]! < ctx && token.lengths[1] === 0 && token.lengths[3] === ctx, true);
  captions.forEach((caption, n) => {
    const at = token.lengths[n]! > 0 ? token.lengths[n]! - 1 : ctx - 1;
    let worst = 0;
    for (let o = 0; o < outWidth; o++) {
      let y = b.data[o]!;
      for (let k = 0; k < width; k++) y += w.data[o * width + k]! * token.xfOut[(n * width + k) * ctx + at]!;
      worst = Math.max(worst, Math.abs(y - token.xfProj[n * outWidth + o]!));
    }
    assert.ok(worst < 1e-4, `'${caption}': xf_proj differs from the projection of position ${at} by ${worst}`);
  });
  // GLIDE's pooling and ours agree where the last token is the last position (empty, full).
  const row = (x: Float32Array, n: number) => Array.from(x.subarray(n * outWidth, (n + 1) * outWidth));
  for (const n of [1, 3]) assert.deepEqual(row(token.xfProj, n), row(position.xfProj, n));
  assert.notDeepEqual(row(token.xfProj, 0), row(position.xfProj, 0));
});

test("xf_pool mean: transformer_proj of the mean of each caption's tokens (the last position when empty)", async () => {
  const ctx = resolveConfig(c.config).text_ctx;
  const long = Array.from({ length: ctx + 4 }, (_, i) => `w${i}`).join(" ");
  const captions = ["red heart", "", "a dot on the left side of a square", long];
  const mean = await encode("mean", captions);
  const width = mean.config.xf_width;
  const outWidth = 4 * mean.config.num_channels;
  const w = mean.weights.get("transformer_proj.weight")!;
  const b = mean.weights.get("transformer_proj.bias")!;
  captions.forEach((caption, n) => {
    const count = mean.lengths[n]!;
    const positions = count > 0 ? Array.from({ length: count }, (_, i) => i) : [ctx - 1];
    let worst = 0;
    for (let o = 0; o < outWidth; o++) {
      let y = b.data[o]!;
      for (let k = 0; k < width; k++) {
        let pooled = 0;
        for (const at of positions) pooled += mean.xfOut[(n * width + k) * ctx + at]!;
        y += w.data[o * width + k]! * (pooled / positions.length);
      }
      worst = Math.max(worst, Math.abs(y - mean.xfProj[n * outWidth + o]!));
    }
    assert.ok(
      worst < 1e-4,
      `'${caption}': xf_proj differs from the projection of the mean of ${count} tokens by ${worst}`,
    );
  });
});

test("xf_pool: validated, and files written before it existed read as GLIDE's pooling", () => {
  assert.throws(() => resolveConfig({ xf_pool: "max" }), /xf_pool must be one of position, token, mean, got "max"/);
  assert.throws(() => resolveConfig({ xf_pool: "token", xf_padding: false }), GlideConfigError);
  assert.throws(() => resolveConfig({ xf_pool: "mean", xf_padding: false }), /needs xf_padding/);
  const old = { ...resolveConfig(c.config) } as Record<string, unknown>;
  delete old.xf_pool;
  const read = storedConfig(old);
  assert.equal(read.xf_pool, "position");
  const reordered = Object.fromEntries(Object.entries(resolveConfig(c.config)).reverse());
  assert.ok(sameConfig(read, storedConfig(reordered)));
  assert.ok(!sameConfig(read, resolveConfig({ ...c.config, xf_pool: "token" })));
});
