// Each dataset format reads back the pairs it holds: decoding, alpha on white, center crop, and a
// corrupt image skipped and counted instead of stopping the stream.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openDataset, trainingImage } from "../../packages/glide-ts/src/data/index.ts";
import { expandBraces } from "../../packages/glide-ts/src/data/shard-list.ts";
import { splitMemberName } from "../../packages/glide-ts/src/data/tar-shard.ts";
import { readImage } from "../../packages/glide-ts/src/image/read.ts";
import type { Rgba } from "./helpers.ts";
import { keysOf, makeImage, pixel, take, unit, withTempDir, writeFile, writeTar } from "./helpers.ts";

const RED: Rgba = [255, 0, 0, 255];
const GREEN: Rgba = [0, 255, 0, 255];
const BLUE: Rgba = [0, 0, 255, 255];
const CLEAR: Rgba = [255, 0, 0, 0];
const SIZE = 8;

/** The images every format stores: name → [bytes, caption]. */
async function fixturePairs(): Promise<Map<string, [Uint8Array, string]>> {
  return new Map<string, [Uint8Array, string]>([
    ["red", [await makeImage([RED]), "a red square"]],
    ["clear", [await makeImage([CLEAR]), "nothing at all"]],
    ["wide", [await makeImage([RED, GREEN, BLUE]), "three stripes"]],
    ["photo", [await makeImage([BLUE], { format: "jpeg" }), "  a blue photo \n"]],
    ["web", [await makeImage([GREEN], { format: "webp" }), "a green webp"]],
    ["broken", [Buffer.from("\x89PNG\r\n\x1a\n this is not really a png"), "corrupt"]],
  ]);
}

const EXT: Record<string, string> = { photo: "jpg", web: "webp" };
const fileOf = (name: string) => `${name}.${EXT[name] ?? "png"}`;

async function checkSamples(dataset: Awaited<ReturnType<typeof openDataset>>, keyOf: (name: string) => string) {
  const samples = await take(dataset, 100);
  const byKey = new Map(samples.map((s) => [s.key, s]));
  assert.deepEqual(
    [...byKey.keys()].sort(),
    ["clear", "photo", "red", "web", "wide"].map(keyOf).sort(),
    "every decodable pair once per epoch",
  );
  assert.equal(dataset.skipped.count, 1, "the corrupt image is skipped once");
  assert.deepEqual(dataset.skipped.keys, [keyOf("broken")], "the skipped key is reported");
  assert.ok(dataset.skipped.reason(keyOf("broken")), "a reason is kept for the skipped key");
  for (const sample of samples) assert.equal(sample.image.length, 3 * SIZE * SIZE, `${sample.key}: [3, 8, 8]`);
  assert.deepEqual(pixel(byKey.get(keyOf("red"))!.image, SIZE, 3, 3), [1, -1, -1], "red decodes to (1, -1, -1)");
  assert.deepEqual(pixel(byKey.get(keyOf("clear"))!.image, SIZE, 0, 0), [1, 1, 1], "transparent becomes white");
  const wide = byKey.get(keyOf("wide"))!.image;
  for (const x of [0, 7]) assert.deepEqual(pixel(wide, SIZE, x, 4), [-1, 1, -1], `center crop keeps green (x=${x})`);
  assert.equal(byKey.get(keyOf("photo"))!.caption, "a blue photo", "captions are trimmed");
  const [, , b] = pixel(byKey.get(keyOf("photo"))!.image, SIZE, 4, 4);
  assert.ok(Math.abs(b - unit(255)) < 0.05, `jpeg decodes close to blue (${b})`);
}

describe("dataset formats", () => {
  test("folder of images with same-named .txt captions, recursive", async () => {
    await withTempDir(async (dir) => {
      for (const [name, [bytes, caption]] of await fixturePairs()) {
        const sub = name === "web" ? "nested/deeper" : "";
        await writeFile(join(dir, sub, fileOf(name)), bytes);
        await writeFile(join(dir, sub, `${name}.txt`), caption);
      }
      await writeFile(join(dir, "uncaptioned.png"), await makeImage([RED]));
      await writeFile(join(dir, "notes.md"), "not part of the dataset");
      const dataset = await openDataset(dir, { resolution: SIZE, epochs: 1 });
      assert.equal(dataset.format, "folder", "a folder is read as a folder dataset");
      assert.equal(dataset.size, 6, "six captioned images (the uncaptioned one is left out)");
      await checkSamples(dataset, (name) => (name === "web" ? "nested/deeper/web" : name));
    });
  });

  test("JSONL manifest with paths relative to it", async () => {
    await withTempDir(async (dir) => {
      const lines: string[] = [];
      for (const [name, [bytes, caption]] of await fixturePairs()) {
        await writeFile(join(dir, "images", fileOf(name)), bytes);
        lines.push(JSON.stringify({ image: `images/${fileOf(name)}`, caption, key: `k-${name}` }));
      }
      await writeFile(join(dir, "train.jsonl"), `${lines.join("\n")}\n\n`);
      const dataset = await openDataset(join(dir, "train.jsonl"), { resolution: SIZE, epochs: 1 });
      assert.equal(dataset.format, "jsonl", "a .jsonl path is a manifest");
      await checkSamples(dataset, (name) => `k-${name}`);
    });
  });

  test("WebDataset tar shards, by list, brace range and wildcard", async () => {
    await withTempDir(async (dir) => {
      const pairs = [...(await fixturePairs())];
      const shards = [pairs.slice(0, 3), pairs.slice(3)];
      for (let s = 0; s < shards.length; s++) {
        const members: [string, string | Uint8Array][] = [];
        for (const [name, [bytes, caption]] of shards[s]!) {
          members.push([`sub/${name}.txt`, caption], [`sub/${fileOf(name)}`, bytes]);
        }
        members.push([`sub/json-only.json`, "{}"]);
        await writeTar(join(dir, `train-00${s}.tar`), members);
      }
      for (const spec of [
        [join(dir, "train-000.tar"), join(dir, "train-001.tar")],
        join(dir, "train-{000..001}.tar"),
        join(dir, "train-*.tar"),
      ]) {
        const dataset = await openDataset(spec, { resolution: SIZE, epochs: 1, shuffleBuffer: 4 });
        assert.equal(dataset.format, "webdataset", `${spec} is read as tar shards`);
        const samples = await take(dataset, 100);
        assert.equal(samples.length, 5, "five decodable pairs");
        assert.deepEqual(
          [...dataset.skipped.keys].sort(),
          ["sub/broken", "sub/json-only"],
          "corrupt and image-less keys skipped",
        );
      }
      const dataset = await openDataset(join(dir, "train-*.tar"), { resolution: SIZE, epochs: 1 });
      await checkSamplesIgnoringOthers(dataset);
    });
  });

  test("member names split at the first dot of the file name; braces expand with padding", () => {
    assert.deepEqual(splitMemberName("a.b/000123.seg.png"), { key: "a.b/000123", ext: "seg.png" });
    assert.deepEqual(splitMemberName("x.TXT"), { key: "x", ext: "txt" });
    assert.deepEqual(expandBraces("s-{08..10}-{a,b}.tar"), [
      "s-08-a.tar",
      "s-08-b.tar",
      "s-09-a.tar",
      "s-09-b.tar",
      "s-10-a.tar",
      "s-10-b.tar",
    ]);
  });
});

async function checkSamplesIgnoringOthers(dataset: Awaited<ReturnType<typeof openDataset>>) {
  const samples = await take(dataset, 100);
  const wide = samples.find((s) => s.key === "sub/wide");
  assert.ok(wide, `the wide image is read from the shard (got ${keysOf(samples).join(", ")})`);
  assert.deepEqual(pixel(wide.image, SIZE, 0, 0), [-1, 1, -1], "center crop keeps green");
  const clear = samples.find((s) => s.key === "sub/clear");
  assert.deepEqual(pixel(clear!.image, SIZE, 0, 0), [1, 1, 1], "transparent becomes white");
}

test("a training picture decodes and resizes as the sampling commands' pictures do", async () => {
  const bytes = await makeImage([RED, GREEN, BLUE, [10, 200, 90, 255]], { height: 10 });
  const fromData = await trainingImage(bytes, SIZE);
  const fromImage = await readImage(bytes, { size: SIZE });
  // One decoder, one resize, one layout; the values differ only in float32 rounding (≤ 1 ulp).
  assert.equal(fromData.length, fromImage.tensor.length);
  for (let i = 0; i < fromData.length; i++)
    assert.ok(Math.abs(fromData[i]! - fromImage.tensor[i]!) <= 1.2e-7, `value ${i}`);
});
