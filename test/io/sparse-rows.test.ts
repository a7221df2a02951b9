// Weight files that store only the token-embedding rows training changed (issue #20, item 7): the
// reader makes the other rows again from the init seed, so a sparse file loads to exactly the
// tensors of the full one; bad sparse metadata is a clear CheckpointError.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkpointFromBytes } from "../../packages/glide-ts/src/io/checkpoint-contents.ts";
import { convertToSafetensors, loadCheckpointFile } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { CheckpointError } from "../../packages/glide-ts/src/io/errors.ts";
import { writeSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { decodeRows, encodeRows } from "../../packages/glide-ts/src/io/sparse-rows.ts";
import { seededNormal } from "../../packages/glide-ts/src/util/seeded-stream.ts";
import { withTempDir } from "./helpers.ts";

const SHIPPED_BASE = "packages/glide-ts/models/glide-ts-base32.safetensors";
const TABLE = "token_embedding.weight";

function assertSameTensors(a: Awaited<ReturnType<typeof loadCheckpointFile>>, b: typeof a): void {
  assert.deepEqual([...a.stateDict.keys()], [...b.stateDict.keys()], "key order");
  for (const [name, t] of a.stateDict) {
    const u = b.stateDict.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    assert.equal(u.sourceDtype, t.sourceDtype, name);
    assert.ok(Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer)), `${name}: bit for bit`);
  }
}

test("row ranges round-trip and bad ranges are refused", () => {
  const rows = [0, 1, 2, 5, 9, 10, 50256];
  assert.equal(encodeRows(rows), "0-2,5,9-10,50256");
  assert.deepEqual(decodeRows(encodeRows(rows), 50257, "f"), rows);
  assert.deepEqual(decodeRows("", 10, "f"), []);
  for (const bad of ["3,2", "1-1x", "4-2", "9", "0,0", "-1"]) {
    assert.throws(() => decodeRows(bad, 9, "f"), CheckpointError, bad);
  }
});

test("the shipped base stored whole and sparse: the sparse file is far smaller and loads to the same tensors bit for bit", () =>
  withTempDir(async (dir) => {
    // The shipped file is itself sparse (version 6 on); written whole first, it is the reference.
    const whole = join(dir, "base.whole.safetensors");
    const wholeSummary = await convertToSafetensors(SHIPPED_BASE, whole, { dtype: "float16" });
    assert.equal(wholeSummary.embeddingRows, undefined);
    const sparse = join(dir, "base.sparse.safetensors");
    const summary = await convertToSafetensors(whole, sparse, { dtype: "float16", embeddingInitSeed: 1 });
    // Measured: 5,432 of the 50,257 rows differ from their initial values in version 7 (4,625 in version 6).
    assert.ok(summary.embeddingRows!.stored < 8000, `${summary.embeddingRows!.stored} rows stored`);
    assert.equal(summary.embeddingRows!.total, 50257);
    assert.ok(statSync(sparse).size < 0.6 * statSync(whole).size);

    const [full, thin] = [await loadCheckpointFile(whole), await loadCheckpointFile(sparse)];
    assertSameTensors(full, thin);
    assertSameTensors(full, await loadCheckpointFile(SHIPPED_BASE));
    assert.deepEqual(thin.stateDict.get(TABLE)!.shape, [50257, 128]);
    assert.match(thin.metadata.sparse_rows!, /"init":\{"seed":1,"kind":"normal","std":1\}/);

    // A wrong seed drops nothing (no row equals another seed's values) and is still exact.
    const wrong = join(dir, "base.seed7.safetensors");
    const seven = await convertToSafetensors(whole, wrong, { dtype: "float16", embeddingInitSeed: 7 });
    assert.equal(seven.embeddingRows!.stored, 50257);
    assertSameTensors(full, await loadCheckpointFile(wrong));
  }));

test("a float32 table: only the changed rows are stored, in memory too (the browser's reader)", () =>
  withTempDir(async (dir) => {
    const [rows, width] = [40, 6];
    const table = seededNormal(3, TABLE, rows * width, 1);
    table[3 * width + 2] = 0.5; // rows 3, 4 and 39 trained
    table[4 * width] = -0.25;
    table[39 * width + 5] = 2;
    const full = join(dir, "full.safetensors");
    await writeSafetensors(full, {
      [TABLE]: { dtype: "F32", shape: [rows, width], data: table },
      other: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) },
    });
    const sparse = join(dir, "sparse.safetensors");
    const summary = await convertToSafetensors(full, sparse, { embeddingInitSeed: 3 });
    assert.deepEqual(summary.embeddingRows, { stored: 3, total: rows });
    const loaded = await loadCheckpointFile(sparse);
    assert.match(loaded.metadata.sparse_rows!, /"rows":"3-4,39"/);
    assertSameTensors(await loadCheckpointFile(full), loaded);
    const inMemory = checkpointFromBytes(new Uint8Array(readFileSync(sparse)), "sparse.safetensors");
    assert.deepEqual([...inMemory.stateDict.get(TABLE)!.data], [...table]);
  }));

test("bad sparse metadata is a one-line CheckpointError naming the file", () =>
  withTempDir(async (dir) => {
    const table = { dtype: "F32" as const, shape: [2, 4], data: new Float32Array(8) };
    const cases: [string, Record<string, string>, RegExp][] = [
      ["json", { sparse_rows: "{" }, /sparse_rows metadata is not valid JSON/],
      [
        "count",
        { sparse_rows: JSON.stringify({ [TABLE]: entry("0-2") }) },
        /\[2,4\], but sparse_rows lists 3 rows of width 4/,
      ],
      ["range", { sparse_rows: JSON.stringify({ [TABLE]: entry("5,1") }) }, /bad row range '1'/],
      [
        "missing",
        { sparse_rows: JSON.stringify({ "nope.weight": entry("0-1") }) },
        /names 'nope.weight', which the file does not hold/,
      ],
      [
        "init",
        { sparse_rows: JSON.stringify({ [TABLE]: { shape: [10, 4], rows: "0-1" } }) },
        /needs shape \[rows, width\], rows and a normal init/,
      ],
    ];
    for (const [name, metadata, message] of cases) {
      const path = join(dir, `${name}.safetensors`);
      await writeSafetensors(path, { [TABLE]: table }, metadata);
      await assert.rejects(loadCheckpointFile(path), (e: Error) => {
        assert.ok(e instanceof CheckpointError, name);
        assert.match(e.message, message);
        assert.ok(e.message.startsWith(path), e.message);
        return true;
      });
    }
  }));

function entry(rows: string) {
  return { shape: [10, 4], rows, init: { seed: 1, kind: "normal", std: 1 } };
}
