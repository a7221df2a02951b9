// Bad requests of every kind get a 4xx in OpenAI's error shape, and the server stays up.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { type GlideServer, startServer } from "../../packages/app/src/server/server.ts";
import { maskFiles, picturePng } from "../image/mask-files.ts";
import { fixtureModels, pngBytes } from "./helpers.ts";

let server: GlideServer;
before(async () => {
  server = await startServer({
    models: fixtureModels(),
    port: 0,
    threads: 1,
    limits: { uploadBytes: 64 << 10, jsonBytes: 16 << 10 },
  });
  // It listens at once; until the workers have loaded the models the API is not ready.
  assert.deepEqual(await (await fetch(`${server.url}/readyz`)).json(), { status: "loading" });
  assert.equal((await fetch(`${server.url}/v1/models`)).status, 503);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  await server.ready;
});
after(() => server.shutdown());

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A small PNG file that declares `side` × `side` pixels (a decompression bomb, were it decoded). */
function pngBomb(side: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(1 << 16))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function form(fields: Record<string, string | Buffer>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string") body.append(name, value);
    else body.append(name, new Blob([new Uint8Array(value)], { type: "image/png" }), `${name}.png`);
  }
  return body;
}

const json = (body: string, contentType = "application/json") => ({
  method: "POST",
  headers: { "content-type": contentType },
  body,
});

test("malformed, mistyped, oversized and hostile requests: each a 4xx in the error shape", async () => {
  const photo = await pngBytes(16, 16);
  const holed = await pngBytes(16, 16, (x) => x < 4);
  const brokenMultipart = {
    method: "POST",
    headers: { "content-type": "multipart/form-data; boundary=XYZ" },
    body: '--XYZ\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhalf a fi',
  };
  const cases: [string, string, RequestInit, number, string | null, RegExp][] = [
    ["malformed JSON", "/v1/images/generations", json('{"prompt": "x",'), 400, "body", /JSON/i],
    ["a JSON array", "/v1/images/generations", json("[1, 2]"), 400, "body", /JSON object/],
    ["no body", "/v1/images/generations", { method: "POST" }, 400, "body", /JSON object/],
    ["text/plain", "/v1/images/generations", json("prompt", "text/plain"), 400, "body", /JSON object/],
    ["no prompt", "/v1/images/generations", json("{}"), 400, "prompt", /prompt is required/],
    ["prompt a number", "/v1/images/generations", json('{"prompt": 5}'), 400, "prompt", /must be a string/],
    [
      "a lone surrogate in the prompt",
      "/v1/images/generations",
      json('{"prompt": "dog \\ud83d cat"}'),
      400,
      "prompt",
      /unpaired UTF-16 surrogate at index 4/,
    ],
    [
      "a lone surrogate, streamed",
      "/v1/images/generations",
      json('{"prompt": "\\udc00", "stream": true}'),
      400,
      "prompt",
      /unpaired UTF-16 surrogate/,
    ],
    ["n a string", "/v1/images/generations", json('{"prompt": "x", "n": "2"}'), 400, "n", /n must be a number/],
    ["n too big", "/v1/images/generations", json('{"prompt": "x", "n": 50}'), 400, "n", /from 1 to 4/],
    [
      "stream not boolean",
      "/v1/images/generations",
      json('{"prompt": "x", "stream": "yes"}'),
      400,
      "stream",
      /true or false/,
    ],
    ["bad size", "/v1/images/generations", json('{"prompt": "x", "size": "17x17"}'), 400, "size", /16x16 or auto/],
    [
      "bad format",
      "/v1/images/generations",
      json('{"prompt": "x", "response_format": "jpg"}'),
      400,
      "response_format",
      /b64_json, url/,
    ],
    [
      "long prompt",
      "/v1/images/generations",
      json(JSON.stringify({ prompt: "a".repeat(1001) })),
      400,
      "prompt",
      /up to 1000/,
    ],
    [
      "huge body",
      "/v1/images/generations",
      json(JSON.stringify({ prompt: "x", pad: "a".repeat(20_000) })),
      413,
      "body",
      /./,
    ],
    ["JSON to edits", "/v1/images/edits", json('{"prompt": "x"}'), 400, "body", /multipart\/form-data/],
    [
      "huge guidance",
      "/v1/images/generations",
      json('{"prompt": "x", "guidance": 1e308}'),
      400,
      "guidance",
      /from -100 to 100/,
    ],
    [
      "a hexadecimal n in a form",
      "/v1/images/variations",
      { method: "POST", body: form({ n: "0x4", image: Buffer.from("irrelevant") }) },
      400,
      "n",
      /n must be a number/,
    ],
    ["broken multipart", "/v1/images/edits", brokenMultipart, 400, "body", /multipart/],
    [
      "an unknown sampler, streamed",
      "/v1/images/generations",
      json('{"prompt": "x", "sampler": "euler", "stream": true}'),
      400,
      "sampler",
      /sampler must be one of ddpm, ddim, plms, dpm\+\+2m, got 'euler'/,
    ],
    [
      "steps the model refuses, streamed: 400 before the stream",
      "/v1/images/generations",
      json('{"prompt": "x", "steps": "fast", "stream": true}'),
      400,
      "steps",
      /bad steps 'fast'/,
    ],
    [
      "a respaced variation, streamed",
      "/v1/images/variations",
      { method: "POST", body: form({ image: holed, steps: "fast27", stream: "true" }) },
      400,
      "steps",
      /a variation takes a step count/,
    ],
    [
      "more steps than the model has",
      "/v1/images/generations",
      json('{"prompt": "x", "steps": 1001}'),
      400,
      "steps",
      /steps must be an integer from 1 to 1000, got 1001/,
    ],
    [
      "no image",
      "/v1/images/edits",
      { method: "POST", body: form({ prompt: "x" }) },
      400,
      "image",
      /image is required/,
    ],
    [
      "not an image",
      "/v1/images/edits",
      { method: "POST", body: form({ prompt: "x", image: Buffer.from("GIF89a nonsense") }) },
      400,
      "image",
      /not a readable image/,
    ],
    [
      "a PNG bomb",
      "/v1/images/edits",
      { method: "POST", body: form({ prompt: "x", image: pngBomb(100_000) }) },
      400,
      "image",
      /100000×100000/,
    ],
    [
      "a PNG bomb to vary",
      "/v1/images/variations",
      { method: "POST", body: form({ image: pngBomb(60_000) }) },
      400,
      "image",
      /60000×60000/,
    ],
    [
      "too large a file",
      "/v1/images/edits",
      { method: "POST", body: form({ prompt: "x", image: Buffer.alloc(100 << 10) }) },
      413,
      "body",
      /too large/,
    ],
    [
      "no transparency",
      "/v1/images/edits",
      { method: "POST", body: form({ prompt: "x", image: photo }) },
      400,
      "mask",
      /fully transparent/,
    ],
    [
      "mask of another size",
      "/v1/images/edits",
      { method: "POST", body: form({ prompt: "x", image: photo, mask: await pngBytes(8, 8, () => true) }) },
      400,
      "mask",
      /same size/,
    ],
    [
      "strength out of range",
      "/v1/images/variations",
      { method: "POST", body: form({ image: holed, strength: "2" }) },
      400,
      "strength",
      /strength must be a number in \(0, 1\]/,
    ],
    [
      "n not a number in a form",
      "/v1/images/variations",
      { method: "POST", body: form({ image: holed, n: "two" }) },
      400,
      "n",
      /must be a number/,
    ],
    ["unknown route", "/v1/images/nope", json("{}"), 404, null, /nothing at POST \/v1\/images\/nope/],
  ];
  for (const [what, path, init, status, param, message] of cases) {
    const response = await fetch(`${server.url}${path}`, init);
    const body = (await response.json()) as {
      error: { message: string; type: string; param: string | null; code: unknown };
    };
    assert.equal(response.status, status, `${what}: ${JSON.stringify(body)}`);
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"], what);
    assert.equal(body.error.type, "invalid_request_error", what);
    assert.equal(body.error.param, param, what);
    if (status === 400) assert.notEqual(body.error.param, null, `${what}: a 400 names its param`);
    assert.doesNotMatch(String(body.error.code), /FST_/, `${what}: no framework code`);
    assert.equal(response.headers.get("content-type")?.startsWith("application/json"), true, what);
    assert.match(body.error.message, message, what);
  }
  // Still up, and a good request works.
  const ok = await fetch(`${server.url}/v1/images/generations`, json('{"prompt": "x", "steps": 2, "sampler": "ddim"}'));
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { data: unknown[] }).data.length, 1);
});

test("/v1/images/edits takes and refuses the mask files `glide edit` does (the one mask rule)", async () => {
  const picture = await picturePng();
  for (const { what, bytes, refused } of await maskFiles()) {
    const body = form({ prompt: "x", image: picture, mask: bytes, steps: "1", sampler: "ddim" });
    const response = await fetch(`${server.url}/v1/images/edits`, { method: "POST", body });
    const answer = (await response.json()) as { data?: unknown[]; error?: { message: string; param: string } };
    if (refused === null) {
      assert.equal(response.status, 200, `${what}: ${JSON.stringify(answer)}`);
      assert.equal(answer.data?.length, 1, what);
    } else {
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(answer)}`);
      assert.equal(answer.error?.param, "mask", what);
      assert.match(answer.error!.message, refused, what);
    }
  }
});

test("no CORS headers unless configured; health and readiness answer", async () => {
  const response = await fetch(`${server.url}/v1/models`, { headers: { origin: "https://example.com" } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: "ok" });
  assert.deepEqual(await (await fetch(`${server.url}/readyz`)).json(), { status: "ready" });
});
