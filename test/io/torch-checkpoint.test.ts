import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  checkStateDict,
  countParameters,
  StateDictMismatchError,
} from "../../packages/glide-ts/src/io/check-state-dict.ts";
import type { StateDict } from "../../packages/glide-ts/src/io/host-tensor.ts";
import { CheckpointError, loadTorchCheckpoint } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import { ZipFile } from "../../packages/glide-ts/src/io/zip.ts";
import { numel } from "../../packages/glide-ts/src/util/shape.ts";
import { type FakeTensor, f32bytes, fixture, stateDictPickle, torchZip, withTempDir } from "./helpers.ts";

const manifest = JSON.parse(readFileSync(fixture("manifest.json"), "utf-8")) as {
  cases: Record<string, { checkpoint?: string; params?: number }>;
};

function shapes(sd: StateDict): Map<string, number[]> {
  return new Map([...sd].map(([k, t]) => [k, t.shape]));
}

async function loadBytes(dir: string, bytes: Uint8Array, name = "ckpt.pt"): Promise<StateDict> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return loadTorchCheckpoint(path);
}

async function rejectsWith(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test("text2im.pt: parameter count, key order, known keys, shapes and values", async () => {
  const sd = await loadTorchCheckpoint(fixture("text2im.pt"));
  assert.equal(countParameters(sd), 1666582);
  assert.equal(countParameters(sd), manifest.cases.text2im!.params);
  assert.equal(sd.size, 207);
  assert.deepEqual([...sd.keys()].slice(0, 3), ["positional_embedding", "padding_embedding", "time_embed.0.weight"]);
  assert.deepEqual(sd.get("transformer.resblocks.0.attn.c_qkv.weight")!.shape, [48, 16]);
  assert.deepEqual(sd.get("input_blocks.0.0.weight")!.shape, [32, 3, 3, 3]);
  assert.deepEqual(sd.get("out.2.weight")!.shape, [6, 32, 3, 3]);
  assert.deepEqual(sd.get("positional_embedding")!.shape, [16, 16]);
  for (const [key, t] of sd) {
    assert.equal(t.sourceDtype, "float32", key);
    assert.ok(t.data instanceof Float32Array, key);
    assert.equal(t.data.length, numel(t.shape), key);
    assert.equal(t.data.buffer.byteLength, t.data.byteLength, `${key} owns its buffer`);
  }
  // Values read with Python's zipfile + struct from text2im/data/176 and data/6.
  assert.deepEqual(
    [...sd.get("out.2.weight")!.data.subarray(0, 3)],
    [0.03599734231829643, -0.037316225469112396, -0.1895173192024231],
  );
  assert.deepEqual(
    [...sd.get("input_blocks.0.0.weight")!.data.subarray(0, 3)],
    [-0.13569144904613495, -0.08447068184614182, 0.21730616688728333],
  );
});

test("text2im.fp16.pt matches text2im.pt within float16 rounding", async () => {
  const full = await loadTorchCheckpoint(fixture("text2im.pt"));
  const half = await loadTorchCheckpoint(fixture("text2im.fp16.pt"));
  assert.deepEqual([...half.keys()], [...full.keys()]);
  let maxRel = 0;
  for (const [key, h] of half) {
    const f = full.get(key)!;
    assert.deepEqual(h.shape, f.shape, key);
    assert.equal(h.sourceDtype, "float16", key);
    for (let i = 0; i < f.data.length; i++) {
      const a = f.data[i]!;
      const err = Math.abs(h.data[i]! - a);
      // Half has an 11-bit significand (relative step 2^-11); below 2^-14 the step is 2^-24.
      assert.ok(err <= 1e-3 * Math.abs(a) + 2 ** -24, `${key}[${i}]: ${h.data[i]} vs ${a}`);
      if (Math.abs(a) > 1e-4) maxRel = Math.max(maxRel, err / Math.abs(a));
    }
  }
  assert.ok(maxRel > 0 && maxRel <= 2 ** -11, `max relative error ${maxRel}`);
});

test("the other variants load with their manifest parameter counts and differ only in input channels", async () => {
  const base = shapes(await loadTorchCheckpoint(fixture("text2im.pt")));
  const inputChannels: Record<string, number> = { inpaint: 7, superres: 6, superres_inpaint: 10 };
  for (const [name, channels] of Object.entries(inputChannels)) {
    const c = manifest.cases[name]!;
    const sd = await loadTorchCheckpoint(fixture(c.checkpoint!));
    assert.equal(countParameters(sd), c.params, name);
    assert.deepEqual(sd.get("input_blocks.0.0.weight")!.shape, [32, channels, 3, 3], name);
    assert.throws(
      () => checkStateDict(base, sd, c.checkpoint!),
      (e: unknown) => {
        assert.ok(e instanceof StateDictMismatchError);
        assert.deepEqual(e.missing, []);
        assert.deepEqual(e.unexpected, []);
        assert.deepEqual(e.misshaped, [
          { key: "input_blocks.0.0.weight", expected: [32, 3, 3, 3], actual: [32, channels, 3, 3] },
        ]);
        return true;
      },
    );
  }
});

test("shared storage: offset views and non-contiguous strides, zip64 archive", async () => {
  const values = Array.from({ length: 12 }, (_, i) => i);
  const common = { storageKey: "0", storageNumel: 12 };
  const tensors: FakeTensor[] = [
    { name: "whole", ...common, shape: [3, 4] },
    { name: "row1", ...common, offset: 4, shape: [4], stride: [1] },
    { name: "transposed", ...common, shape: [4, 3], stride: [1, 4] },
    { name: "column2", ...common, offset: 2, shape: [3, 1], stride: [4, 1] },
    { name: "scalar", ...common, offset: 11, shape: [], stride: [] },
  ];
  await withTempDir(async (dir) => {
    for (const zip64 of [false, true]) {
      const sd = await loadBytes(dir, torchZip(stateDictPickle(tensors), { "0": f32bytes(values) }, { zip64 }));
      assert.deepEqual([...sd.keys()], ["whole", "row1", "transposed", "column2", "scalar"]);
      assert.deepEqual([...sd.get("whole")!.data], values);
      assert.deepEqual([...sd.get("row1")!.data], [4, 5, 6, 7]);
      assert.deepEqual([...sd.get("transposed")!.data], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      assert.deepEqual(sd.get("transposed")!.shape, [4, 3]);
      assert.deepEqual([...sd.get("column2")!.data], [2, 6, 10]);
      assert.deepEqual([...sd.get("scalar")!.data], [11]);
      assert.deepEqual(sd.get("scalar")!.shape, []);
      // Views are copies: writing to one tensor leaves the others alone.
      sd.get("row1")!.data[0] = -1;
      assert.equal(sd.get("whole")!.data[4], 4);
    }
  });
});

test("float16, bfloat16, float64, int64 and bool storages convert to float32", async () => {
  const u16 = (v: number[]) => new Uint8Array(new Uint16Array(v).buffer);
  const storages = {
    h: u16([0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00]),
    b: u16([0x3f80, 0x4049, 0xc2f7]),
    d: new Uint8Array(new Float64Array([0.1, -1e300]).buffer),
    l: new Uint8Array(new BigInt64Array([7n, -3n, 1n << 40n]).buffer),
    o: new Uint8Array([1, 0, 1]),
  };
  const tensors: FakeTensor[] = [
    { name: "half", storageKey: "h", storageClass: "HalfStorage", storageNumel: 5, shape: [5] },
    { name: "bf16", storageKey: "b", storageClass: "BFloat16Storage", storageNumel: 3, shape: [3] },
    { name: "f64", storageKey: "d", storageClass: "DoubleStorage", storageNumel: 2, shape: [2] },
    { name: "i64", storageKey: "l", storageClass: "LongStorage", storageNumel: 3, shape: [3] },
    { name: "mask", storageKey: "o", storageClass: "BoolStorage", storageNumel: 3, shape: [3] },
  ];
  await withTempDir(async (dir) => {
    const sd = await loadBytes(dir, torchZip(stateDictPickle(tensors), storages));
    assert.deepEqual([...sd.get("half")!.data], [1, -2, 65504, 2 ** -24, Number.NEGATIVE_INFINITY]);
    assert.deepEqual([...sd.get("bf16")!.data], [1, 3.140625, -123.5]);
    assert.deepEqual([...sd.get("f64")!.data], [Math.fround(0.1), Number.NEGATIVE_INFINITY]);
    assert.deepEqual([...sd.get("i64")!.data], [7, -3, 2 ** 40]);
    assert.deepEqual([...sd.get("mask")!.data], [1, 0, 1]);
    assert.deepEqual(
      [...sd.values()].map((t) => t.sourceDtype),
      ["float16", "bfloat16", "float64", "int64", "bool"],
    );
  });
});

test("a state_dict nested under 'state_dict' or 'model' is found; other roots are refused", async () => {
  const tensors: FakeTensor[] = [{ name: "w", storageKey: "0", storageNumel: 2, shape: [2] }];
  await withTempDir(async (dir) => {
    for (const key of ["state_dict", "model"]) {
      const sd = await loadBytes(dir, torchZip(stateDictPickle(tensors, key), { "0": f32bytes([1, 2]) }));
      assert.deepEqual([...sd.keys()], ["w"]);
      assert.deepEqual([...sd.get("w")!.data], [1, 2]);
    }
    const other = torchZip(stateDictPickle(tensors, "weights"), { "0": f32bytes([1, 2]) });
    await rejectsWith(loadBytes(dir, other, "other.pt"), /other\.pt/, /expected a state_dict/, /epoch, weights/);
  });
});

test("refuses a pickle that calls os.system", async () => {
  // GLOBAL 'os system', BINUNICODE 'echo pwned', TUPLE1, REDUCE, STOP
  const evil = new Uint8Array([
    0x80,
    2,
    ...Buffer.from("cos\nsystem\n", "latin1"),
    0x58,
    10,
    0,
    0,
    0,
    ...Buffer.from("echo pwned"),
    0x85,
    0x52,
    0x2e,
  ]);
  await withTempDir(async (dir) => {
    await rejectsWith(loadBytes(dir, torchZip(evil, {}), "evil.pt"), /evil\.pt/, /archive\/data\.pkl/, /os\.system/);
  });
});

test("refuses a truncated checkpoint, naming the file", async () => {
  const bytes = readFileSync(fixture("text2im.pt"));
  await withTempDir(async (dir) => {
    await rejectsWith(loadBytes(dir, bytes.subarray(0, bytes.length >> 1), "half.pt"), /half\.pt/, /truncated/, /zip/);
    await rejectsWith(loadBytes(dir, new Uint8Array(0), "empty.pt"), /empty\.pt/);
    await rejectsWith(loadTorchCheckpoint(join(dir, "missing.pt")), /missing\.pt: no such file/);
  });
});

test("refuses a tensor whose extent exceeds its storage, and a storage record that is too short", async () => {
  const storages = { "0": f32bytes([1, 2, 3, 4]) };
  const cases: [FakeTensor, RegExp][] = [
    [{ name: "big", storageKey: "0", storageNumel: 4, shape: [2, 3] }, /'big'.*more elements than its storage \(4\)/],
    [
      { name: "shifted", storageKey: "0", storageNumel: 4, offset: 2, shape: [3] },
      /'shifted'.*reaches element 4 but its storage holds 4/,
    ],
    [
      { name: "strided", storageKey: "0", storageNumel: 4, shape: [2, 2], stride: [3, 1] },
      /'strided'.*reaches element 4/,
    ],
    [
      { name: "liar", storageKey: "0", storageNumel: 400, shape: [400] },
      /storage '0' should hold 400 float32.*16 bytes/,
    ],
    [{ name: "nodata", storageKey: "9", storageNumel: 1, shape: [1] }, /storage record 'archive\/data\/9' is missing/],
  ];
  await withTempDir(async (dir) => {
    for (const [tensor, pattern] of cases) {
      await rejectsWith(loadBytes(dir, torchZip(stateDictPickle([tensor]), storages), "bad.pt"), /bad\.pt/, pattern);
    }
  });
});

test("refuses compressed entries, entries running past the archive, and archives without data.pkl", async () => {
  await withTempDir(async (dir) => {
    // Central directory entry of a storage claiming 1 GB (compressed and uncompressed sizes).
    const real = readFileSync(fixture("text2im.pt"));
    const name = Buffer.from("text2im/data/0");
    const centralStart = real.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const entry = real.indexOf(name, centralStart) - 46;
    const forged = new Uint8Array(real);
    new DataView(forged.buffer).setUint32(entry + 20, 1e9, true);
    new DataView(forged.buffer).setUint32(entry + 24, 1e9, true);
    await rejectsWith(loadBytes(dir, forged, "forged.pt"), /forged\.pt/, /'text2im\/data\/0' .*runs past the archive/);

    const zip = torchZip(stateDictPickle([]), {});
    // Flip the method field of the first central directory entry (data.pkl) to deflate.
    const cd = Buffer.from(zip).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const patched = zip.slice();
    patched[cd + 10] = 8;
    await rejectsWith(loadBytes(dir, patched, "deflated.pt"), /deflated\.pt/, /compressed/);
    const renamed = torchZip(stateDictPickle([]), {}, { prefix: "a/b" });
    await rejectsWith(loadBytes(dir, renamed, "nopkl.pt"), /nopkl\.pt/, /expected one '<archive>\/data\.pkl'/);
  });
});

test("a flipped byte in a weight record is refused by its CRC-32, naming the file and the entry", async () => {
  await withTempDir(async (dir) => {
    const intact = join(dir, "intact.pt");
    copyFileSync(fixture("text2im.pt"), intact);
    const zip = await ZipFile.open(intact);
    const entry = zip.entries.get("text2im/data/3")!;
    const start = await zip.dataOffset(entry);
    await zip.close();

    const damaged = join(dir, "damaged.pt");
    const bytes = readFileSync(intact);
    bytes[start + Math.floor(entry.size / 2)]! ^= 0x10;
    writeFileSync(damaged, bytes);
    await rejectsWith(loadTorchCheckpoint(damaged), /damaged\.pt: zip entry 'text2im\/data\/3' is corrupt: its CRC-32/);

    const pickle = readFileSync(intact);
    const pkl = await ZipFile.open(intact);
    const pklStart = await pkl.dataOffset(pkl.entries.get("text2im/data.pkl")!);
    await pkl.close();
    pickle[pklStart + 40]! ^= 0x01;
    writeFileSync(join(dir, "pickle.pt"), pickle);
    await rejectsWith(
      loadTorchCheckpoint(join(dir, "pickle.pt")),
      /pickle\.pt: zip entry 'text2im\/data\.pkl' is corrupt/,
    );

    const untouched = await loadTorchCheckpoint(intact);
    assert.equal(untouched.size, (await loadTorchCheckpoint(fixture("text2im.pt"))).size, "the intact copy loads");
  });
});
