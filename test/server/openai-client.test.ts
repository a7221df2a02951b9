// The official `openai` client against the server, unchanged but for its base URL and key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI, { toFile } from "openai";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { fixtureModels, fixtureServer, pngBytes, pngSize } from "./helpers.ts";

let server: GlideServer;
let client: OpenAI;
// GLIDE's knobs are extra body fields; the client sends them as given.
const fast = { steps: 2, sampler: "ddim", seed: 3 } as Record<string, unknown>;

before(async () => {
  server = await fixtureServer({ apiKeys: ["sk-test-1", "sk-test-2"], models: fixtureModels(true) });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-test-2", maxRetries: 0 });
});
after(() => server.shutdown());

test("images.generate: n images as b64_json at the size asked for, and as urls served for a while", async () => {
  const result = await client.images.generate({ prompt: "a red heart", n: 2, size: "16x16" as "auto", ...fast });
  assert.equal(result.data?.length, 2);
  for (const image of result.data!)
    assert.deepEqual(await pngSize(image.b64_json!), { width: 16, height: 16, format: "png" });
  assert.ok(result.created > 0);

  const linked = await client.images.generate({
    prompt: "a red heart",
    response_format: "url",
    upsample: false,
    ...fast,
  } as never);
  const url = (linked as OpenAI.ImagesResponse).data![0]!.url!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/images\/[0-9a-f-]{36}\.png$/);
  const fetched = await fetch(url);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.headers.get("content-type"), "image/png");
  assert.deepEqual(await pngSize(Buffer.from(await fetched.arrayBuffer()).toString("base64")), {
    width: 16,
    height: 16,
    format: "png",
  });
  assert.equal((await fetch(url.replace(/[0-9a-f]{8}-/, "00000000-"))).status, 404, "only stored names are served");
});

test("images.generate with stream: the client reads the partial and completed events", async () => {
  const stream = await client.images.generate({ prompt: "a red heart", stream: true, partial_images: 1, ...fast });
  const types: string[] = [];
  let final = "";
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "image_generation.completed") final = event.b64_json;
  }
  assert.ok(types.includes("image_generation.partial_image"));
  assert.equal(types.at(-1), "image_generation.completed");
  assert.deepEqual(await pngSize(final), { width: 16, height: 16, format: "png" });
});

test("images.edit with toFile: the image's transparent pixels, or the mask's, are redrawn", async () => {
  const holed = await pngBytes(24, 24, (x, y) => x >= 8 && x < 16 && y >= 8 && y < 16);
  const edited = await client.images.edit({
    image: await toFile(holed, "holed.png", { type: "image/png" }),
    prompt: "a blue square",
    ...fast,
  });
  assert.deepEqual(await pngSize(edited.data![0]!.b64_json!), { width: 16, height: 16, format: "png" });

  const withMask = await client.images.edit({
    image: await toFile(await pngBytes(24, 24), "photo.png", { type: "image/png" }),
    mask: await toFile(holed, "mask.png", { type: "image/png" }),
    prompt: "a blue square",
    n: 2,
    ...fast,
  });
  assert.equal(withMask.data?.length, 2);
});

test("images.createVariation and models.list", async () => {
  const varied = await client.images.createVariation({
    image: await toFile(await pngBytes(20, 20), "photo.png", { type: "image/png" }),
    ...fast,
    strength: 0.3,
  } as never);
  assert.deepEqual(await pngSize(varied.data![0]!.b64_json!), { width: 16, height: 16, format: "png" });

  const models = [];
  for await (const model of client.models.list()) models.push(model);
  assert.deepEqual(
    models.map((m) => [m.id, m.object, m.owned_by]),
    [["fixture", "model", "glide-ts"]],
  );
  assert.equal((await client.models.retrieve("fixture")).id, "fixture");
});

test("errors reach the client as OpenAI's error classes, with the message, param and code", async () => {
  const wrongKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
  await assert.rejects(wrongKey.images.generate({ prompt: "x" }), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.code, "invalid_api_key");
    return true;
  });
  await assert.rejects(client.images.generate({ prompt: "x", size: "1024x1024" }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.param, "size");
    assert.match(e.message, /size must be one of 16x16 or auto/);
    return true;
  });
  await assert.rejects(client.images.generate({ prompt: "x", model: "dall-e-3" }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.code, "model_not_found");
    return true;
  });
  await assert.rejects(client.images.generate({ prompt: "x", ...fast, ...{ sampler: "euler" } }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.match(e.message, /sampler must be one of ddpm, ddim, plms, dpm\+\+2m, got 'euler'/);
    return true;
  });
});

test("url results start at the configured public URL, never at the request's Host header", async () => {
  const behindProxy = await fixtureServer({ publicUrl: "https://images.example.test/glide/", models: fixtureModels() });
  try {
    const response = await fetch(`${behindProxy.url}/v1/images/generations`, {
      method: "POST",
      headers: { "content-type": "application/json", host: "attacker.example" },
      body: JSON.stringify({ prompt: "a red heart", response_format: "url", ...fast }),
    });
    assert.equal(response.status, 200);
    const { data } = (await response.json()) as { data: { url: string }[] };
    assert.match(data[0]!.url, /^https:\/\/images\.example\.test\/glide\/images\/[0-9a-f-]{36}\.png$/);
  } finally {
    await behindProxy.shutdown();
  }
});
