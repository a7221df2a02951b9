// POST /v1/images/variations: the variation pipeline run by the slot's JobRunner (the worker that
// already holds the served models), upsampled by the served upsampler when asked, on the tiny
// fixture models.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { DEFAULT_VARIATION_STRENGTH } from "../../packages/glide-ts/src/pipelines/variation.ts";
import { fixtureModels, fixtureServer, pngBytes, pngSize } from "./helpers.ts";

let server: GlideServer;
before(async () => {
  server = await fixtureServer({ models: fixtureModels(true) });
});
after(() => server.shutdown());

interface VariationReply {
  data: { b64_json: string }[];
  glide: {
    seed: number;
    settings: {
      base: { strength?: number; startTimestep?: number; evaluations: number };
      upsample: Record<string, unknown> | null;
    };
  };
}

async function vary(fields: Record<string, string>): Promise<{ status: number; body: VariationReply }> {
  const form = new FormData();
  form.set("image", new Blob([new Uint8Array(await pngBytes(20, 20))], { type: "image/png" }), "photo.png");
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  const reply = await fetch(`${server.url}/v1/images/variations`, { method: "POST", body: form });
  return { status: reply.status, body: (await reply.json()) as VariationReply };
}

test("a variation reports its strength, and the same seed gives the same image", async () => {
  const fields = { sampler: "ddim", steps: "3", seed: "5", strength: "0.3", upsample: "false" };
  const first = await vary(fields);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.data.length, 1);
  assert.deepEqual(await pngSize(first.body.data[0]!.b64_json), { width: 16, height: 16, format: "png" });
  assert.equal(first.body.glide.settings.base.strength, 0.3);
  assert.equal(first.body.glide.settings.base.startTimestep, Math.round(0.3 * 999));
  assert.equal(first.body.glide.settings.base.evaluations, 3);
  assert.equal(first.body.glide.settings.upsample, null);
  const again = await vary(fields);
  assert.equal(again.body.data[0]!.b64_json, first.body.data[0]!.b64_json);
});

test("a variation without a strength takes the default; with upsample the served upsampler runs", async () => {
  const { status, body } = await vary({ sampler: "ddim", steps: "2", seed: "1", n: "2", upsample: "true" });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.data.length, 2);
  assert.equal(body.glide.settings.base.strength, DEFAULT_VARIATION_STRENGTH);
  assert.ok(body.glide.settings.upsample, "the upsample stage ran");
});
