// An empty, missing or malformed dataset fails at once with a message naming the path.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DatasetError, openDataset } from "../../packages/glide-ts/src/data/index.ts";
import { glide } from "../cli/glide-cli.ts";
import { makeImage, shade, take, withTempDir, writeFile, writeTar } from "./helpers.ts";

/** Asserts that opening (and reading the first sample of) `spec` fails with a DatasetError matching `pattern`. */
async function rejects(spec: string | string[], pattern: RegExp, options = {}) {
  await assert.rejects(
    async () => take(await openDataset(spec, { resolution: 4, ...options }), 1),
    (error: unknown) => {
      assert.ok(error instanceof DatasetError, `a DatasetError, got ${String(error)}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("dataset errors", () => {
  test("missing path, empty folder, folder without captions", async () => {
    await withTempDir(async (dir) => {
      const missing = join(dir, "nowhere");
      await rejects(missing, new RegExp(`cannot read dataset ${missing}.*ENOENT`));
      mkdirSync(join(dir, "empty"));
      await rejects(join(dir, "empty"), new RegExp(`no image–caption pairs in ${join(dir, "empty")}$`));
      await writeFile(join(dir, "bare", "a.png"), await makeImage([shade(1)]));
      await rejects(join(dir, "bare"), /1 images but none has a same-named \.txt caption/);
      await writeFile(join(dir, "file.bin"), "x");
      await rejects(join(dir, "file.bin"), /cannot tell the format of .*file\.bin/);
    });
  });

  test("manifest: missing, malformed line, bad fields, empty", async () => {
    await withTempDir(async (dir) => {
      await rejects(join(dir, "none.jsonl"), /cannot read manifest .*none\.jsonl/);
      await writeFile(join(dir, "bad.jsonl"), '{"image": "a.png", "caption": "ok"}\n{oops\n');
      await rejects(join(dir, "bad.jsonl"), /bad\.jsonl:2: not valid JSON/);
      await writeFile(join(dir, "field.jsonl"), '{"image": 3, "caption": "x"}\n');
      await rejects(join(dir, "field.jsonl"), /field\.jsonl:1: "image" must be a path/);
      await writeFile(join(dir, "empty.jsonl"), "\n");
      await rejects(join(dir, "empty.jsonl"), /no image–caption pairs in .*empty\.jsonl/);
    });
  });

  test("manifest: a caption with half a UTF-16 pair (a \\u escape) is named, also by the command line", async () => {
    await withTempDir(async (dir) => {
      const manifest = join(dir, "lone.jsonl");
      await writeFile(
        manifest,
        '{"image": "a.png", "caption": "ok \\ud83d\\udc15"}\n{"image": "b.png", "caption": "dog \\ud83d"}\n',
      );
      const pattern = /lone\.jsonl:2: the caption cannot be read: it holds an unpaired UTF-16 surrogate at index 4/;
      await rejects(manifest, pattern);
      const run = glide("data", "check", manifest);
      assert.equal(run.code, 1);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.match(run.stderr, pattern);
    });
  });

  test("tar shards: missing shard, no match, empty shard, truncated shard", async () => {
    await withTempDir(async (dir) => {
      await rejects(join(dir, "gone.tar"), /cannot read tar shard .*gone\.tar/);
      await rejects(join(dir, "x-*.tar"), /no tar shards match .*x-\*\.tar/);
      await writeTar(join(dir, "empty.tar"), []);
      await rejects(join(dir, "empty.tar"), /no samples in the tar shards .*empty\.tar/);
      const members: [string, Uint8Array | string][] = [];
      for (let i = 0; i < 3; i++) members.push([`k${i}.png`, await makeImage([shade(i)], { height: 64 })]);
      await writeTar(join(dir, "whole.tar"), members);
      await writeFile(join(dir, "cut.tar"), readFileSync(join(dir, "whole.tar")).subarray(0, 1500));
      await rejects(join(dir, "cut.tar"), /cannot read tar shard .*cut\.tar/);
    });
  });

  test("every image unusable: an error after one epoch instead of an endless empty stream", async () => {
    await withTempDir(async (dir) => {
      for (const name of ["a", "b"]) {
        await writeFile(join(dir, "bad", `${name}.png`), "not a png");
        await writeFile(join(dir, "bad", `${name}.txt`), name);
      }
      await rejects(join(dir, "bad"), /none of the 2 pairs in .*bad could be read \([ab]: /);
      await writeTar(join(dir, "uncaptioned.tar"), [["k.png", await makeImage([shade(1)])]]);
      await rejects(
        join(dir, "uncaptioned.tar"),
        /none of the 1 pairs in .*uncaptioned\.tar could be read \(k: no caption/,
      );
    });
  });

  test("a position that does not fit the dataset", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "d", "a.png"), await makeImage([shade(1)]));
      await writeFile(join(dir, "d", "a.txt"), "a");
      await rejects(join(dir, "d"), /index 5 is beyond the 1 pairs/, { position: { epoch: 0, index: 5 } });
      await rejects(join(dir, "d"), /invalid data position/, { position: { epoch: -1, index: 0 } });
      await rejects(join(dir, "d"), /was saved from tar shards/, {
        position: { epoch: 0, index: 0, shard: 0, offset: 0 },
      });
      await writeTar(join(dir, "s.tar"), [
        ["a.png", await makeImage([shade(1)])],
        ["a.txt", "a"],
      ]);
      await rejects(join(dir, "s.tar"), /has no shard and offset/, { position: { epoch: 0, index: 1 } });
    });
  });
});
