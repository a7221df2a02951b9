// The server's pictures: every image of `n` has its own seed (S, S+1, …) in `data`, and every PNG
// it returns or stores (b64_json and url, sync, streamed and async, generations, edits and
// variations) carries its parameters; `glide generate` run with them makes the same pixels.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { readPngText } from "../../packages/glide-ts/src/image/png-text.ts";
import {
  type PictureParameters,
  readPictureParameters,
} from "../../packages/glide-ts/src/pipelines/picture-parameters.ts";
import { glide } from "../cli/glide-cli.ts";
import { fixtureFiles, readPng, tempDir } from "../pipelines/helpers.ts";
import { fixtureServer, parseEvents, pngBytes } from "./helpers.ts";

const dir = tempDir();
let server: GlideServer;
before(async () => {
  server = await fixtureServer();
});
after(() => server.shutdown());

type Item = { b64_json?: string; url?: string; seed: number };
/** What the routes answer: images, or a job (its id and status). */
type Reply = { data: Item[]; id: string; status: string };

function parametersOf(png: Uint8Array): PictureParameters {
  const texts = readPngText(png);
  assert.ok(texts.parameters, "an A1111-style parameters chunk");
  const parameters = readPictureParameters(texts);
  assert.ok(parameters, "a glide-ts chunk");
  assert.match(texts.parameters, new RegExp(`Seed: ${parameters.seed},`));
  return parameters;
}

async function pngOf(item: Item): Promise<Uint8Array> {
  if (item.b64_json) return new Uint8Array(Buffer.from(item.b64_json, "base64"));
  const reply = await fetch(item.url!);
  assert.equal(reply.status, 200);
  return new Uint8Array(await reply.arrayBuffer());
}

async function post(path: string, body: Record<string, unknown>): Promise<{ status: number; json: Reply }> {
  const reply = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: reply.status, json: (await reply.json()) as Reply };
}

const generation = { prompt: "a blue boat", sampler: "ddim", steps: 3, guidance: 2, upsample: false };

test("n: 2 with seed 40: data carries seeds 40 and 41; regenerating image 2 from its PNG gives its pixels", async () => {
  const { status, json } = await post("/v1/images/generations", { ...generation, n: 2, seed: 40 });
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(
    json.data.map((item) => item.seed),
    [40, 41],
  );
  const png = await pngOf(json.data[1]);
  const p = parametersOf(png);
  assert.deepEqual([p.prompt, p.seed, p.batchSize, p.index, p.width], ["a blue boat", 41, 2, 1, 16]);
  assert.deepEqual([p.base?.sampler, p.base?.steps, p.base?.guidanceScale], ["ddim", 3, 2]);
  assert.equal(p.model.name, basename(fixtureFiles("text2im").checkpoint), "named by its file");
  assert.match(p.model.sha256 ?? "", /^[0-9a-f]{64}$/);

  const served = join(dir, "served.png");
  writeFileSync(served, png);
  const model = fixtureFiles("text2im");
  const again = join(dir, "again.png");
  const run = glide(
    "generate",
    p.prompt,
    ...["--checkpoint", model.checkpoint, "--config", model.config, "--threads", "1"],
    ...["--sampler", p.base!.sampler, "--steps", String(p.base!.steps), "--guidance", String(p.base!.guidanceScale)],
    ...["--seed", String(p.seed), "-n", "1", "--out", again],
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await readPng(again)).data, (await readPng(served)).data, "the CLI remakes the server's image 2");
  const cliParameters = readPictureParameters(readPngText(readFileSync(again)));
  assert.equal(cliParameters?.model.sha256, p.model.sha256, "the CLI and the server name the model alike");
});

test("url results are stored with their parameters", async () => {
  const { status, json } = await post("/v1/images/generations", {
    ...generation,
    n: 2,
    seed: 7,
    response_format: "url",
  });
  assert.equal(status, 200, JSON.stringify(json));
  const seeds = [];
  for (const item of json.data) seeds.push([item.seed, parametersOf(await pngOf(item)).seed]);
  assert.deepEqual(seeds, [
    [7, 7],
    [8, 8],
  ]);
});

test("a stream's completed events carry each image's seed and a PNG with its parameters", async () => {
  const reply = await fetch(`${server.url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...generation, n: 2, seed: 90, stream: true, partial_images: 0 }),
  });
  assert.equal(reply.status, 200);
  const completed = parseEvents(await reply.text()).filter((e) => e.event === "image_generation.completed");
  const seen = completed.map((e) => [
    e.data.seed,
    parametersOf(new Uint8Array(Buffer.from(e.data.b64_json as string, "base64"))).seed,
  ]);
  assert.deepEqual(seen, [
    [90, 90],
    [91, 91],
  ]);
});

test("an async job's data carries each image's seed and PNGs with their parameters", async () => {
  const submitted = await post("/v1/images/jobs", { ...generation, n: 2, seed: 60 });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
  let job: Reply | undefined;
  for (let i = 0; i < 600; i++) {
    job = (await (await fetch(`${server.url}/v1/images/jobs/${submitted.json.id}`)).json()) as Reply;
    if (job.status === "succeeded" || job.status === "failed") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(job?.status, "succeeded", JSON.stringify(job));
  const seen = [];
  for (const item of job.data) seen.push([item.seed, parametersOf(await pngOf(item)).seed]);
  assert.deepEqual(seen, [
    [60, 60],
    [61, 61],
  ]);
});

test("edits and variations return PNGs with their parameters and seeds", async () => {
  const picture = new Blob([new Uint8Array(await pngBytes(16, 16, (x) => x > 8))], { type: "image/png" });
  for (const route of ["edits", "variations"]) {
    const form = new FormData();
    form.set("image", picture, "photo.png");
    for (const [name, value] of Object.entries({ prompt: "a red roof", n: "2", seed: "3", steps: "2" })) {
      form.set(name, value);
    }
    form.set("upsample", "false");
    const reply = await fetch(`${server.url}/v1/images/${route}`, { method: "POST", body: form });
    const json = (await reply.json()) as { data: Item[] };
    assert.equal(reply.status, 200, JSON.stringify(json));
    const seen = [];
    for (const item of json.data) {
      const p = parametersOf(await pngOf(item));
      seen.push([item.seed, p.seed, p.prompt]);
    }
    assert.deepEqual(
      seen,
      [
        [3, 3, "a red roof"],
        [4, 4, "a red roof"],
      ],
      route,
    );
  }
});

test("seeds past 2^32: image 2 of seed 2^32 − 1 is remade alone with seed 2^32", async () => {
  const top = 2 ** 32 - 1;
  const pair = await post("/v1/images/generations", { ...generation, n: 2, seed: top });
  assert.equal(pair.status, 200, JSON.stringify(pair.json));
  assert.deepEqual(
    pair.json.data.map((item) => item.seed),
    [top, top + 1],
  );
  const alone = await post("/v1/images/generations", { ...generation, seed: top + 1 });
  assert.equal(alone.status, 200, JSON.stringify(alone.json));
  const pixels = async (item: Item) =>
    new Uint8Array(
      await sharp(await pngOf(item))
        .raw()
        .toBuffer(),
    );
  const second = await pixels(pair.json.data[1]!);
  assert.deepEqual(await pixels(alone.json.data[0]!), second, "the same pixels");
  assert.notDeepEqual(await pixels(pair.json.data[0]!), second);
});
