import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../packages/glide-ts/src/io/errors.ts";
import type { HostTensor } from "../../packages/glide-ts/src/io/host-tensor.ts";
import {
  parseSafetensors,
  readSafetensors,
  type TypedTensor,
  writeSafetensors,
} from "../../packages/glide-ts/src/io/safetensors.ts";
import { loadTorchCheckpoint } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import { fixtureManifest } from "../fixtures.ts";
import { fixture, withTempDir } from "./helpers.ts";

const manifest = fixtureManifest<{
  cases: Record<string, { io?: string; config?: { inpaint: boolean; super_res: boolean; text_ctx: number } }>;
}>();

/** A safetensors file from a header object and a data section. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(declaredLength ?? json.length));
  return new Uint8Array(Buffer.concat([prefix, json, data]));
}

test("round trip: float32 host tensors and typed tensors, metadata, atomic write", async () => {
  const weight: HostTensor = {
    shape: [2, 3],
    data: new Float32Array([1, -2, 3.5, 1e-8, 0, -0]),
    sourceDtype: "float32",
  };
  const tokens: TypedTensor = { dtype: "I64", shape: [3], data: new BigInt64Array([5n, -1n, 50256n]) };
  const mask: TypedTensor = { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) };
  const half: TypedTensor = { dtype: "F16", shape: [2], data: new Uint16Array([0x3c00, 0xc000]) };
  const odd: TypedTensor = { dtype: "U8", shape: [1, 3], data: new Uint8Array([9, 8, 7]) };
  const scalar: HostTensor = { shape: [], data: new Float32Array([42]), sourceDtype: "float32" };
  await withTempDir(async (dir) => {
    const path = join(dir, "t.safetensors");
    const tensors = new Map<string, HostTensor | TypedTensor>([
      ["odd", odd],
      ["w", weight],
      ["tokens", tokens],
      ["mask", mask],
      ["half", half],
      ["scalar", scalar],
    ]);
    await writeSafetensors(path, tensors, { format: "pt", step: "12" });
    assert.deepEqual(readdirSync(dir), ["t.safetensors"], "no temp file left behind");

    const file = await readSafetensors(path);
    assert.deepEqual(file.metadata, { format: "pt", step: "12" });
    assert.deepEqual(file.names().sort(), ["half", "mask", "odd", "scalar", "tokens", "w"]);
    assert.deepEqual(file.get("w"), { dtype: "F32", shape: [2, 3], data: weight.data });
    assert.deepEqual(file.get("tokens"), tokens);
    assert.deepEqual(file.get("mask"), mask);
    assert.deepEqual(file.get("half"), half);
    assert.deepEqual(file.get("odd"), odd);
    assert.deepEqual(file.get("scalar").shape, []);
    assert.deepEqual([...file.float32("half")], [1, -2]);
    assert.deepEqual([...file.float32("mask")], [1, 0, 1]);
    assert.deepEqual([...file.int32("tokens")], [5, -1, 50256]);
    assert.deepEqual(file.hostTensor("tokens"), {
      shape: [3],
      data: new Float32Array([5, -1, 50256]),
      sourceDtype: "int64",
    });

    // The layout keeps every tensor aligned to its element size.
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + headerLength) % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString()) as Record<
      string,
      { dtype: string; data_offsets: number[] }
    >;
    for (const [name, entry] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const size = { I64: 8, F32: 4, F16: 2, BOOL: 1, U8: 1 }[entry.dtype]!;
      assert.equal(entry.data_offsets[0]! % size, 0, name);
    }

    // Reading from bytes gives the same; writing what was read gives identical bytes; overwriting works.
    const fromBytes = await readSafetensors(new Uint8Array(bytes));
    assert.deepEqual(fromBytes.tensors, file.tensors);
    await writeSafetensors(path, file.tensors, file.metadata);
    assert.deepEqual(readFileSync(path), bytes);
    assert.deepEqual(readdirSync(dir), ["t.safetensors"]);
  });
});

test("write refuses inconsistent tensors and leaves nothing behind", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bad.safetensors");
    const wrong: HostTensor = { shape: [2, 2], data: new Float32Array(3), sourceDtype: "float32" };
    await assert.rejects(
      writeSafetensors(path, { w: wrong }),
      /bad\.safetensors: tensor 'w': F32 of shape \[2, 2\] needs 4/,
    );
    const mistyped: TypedTensor = { dtype: "I64", shape: [2], data: new Int32Array(2) };
    await assert.rejects(writeSafetensors(path, { t: mistyped }), CheckpointError);
    await assert.rejects(writeSafetensors(join(dir, "no/such/dir.safetensors"), {}), /cannot write/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

test("reads every fixture io file: float inputs, int64 t/tokens, bool mask", async () => {
  for (const [name, c] of Object.entries(manifest.cases)) {
    if (!c.io) continue;
    const file = await readSafetensors(fixture(c.io));
    const batch = file.shape("x")[0]!;
    assert.deepEqual(file.shape("x"), [batch, 3, 16, 16], name);
    assert.equal(file.get("x").dtype, "F32");
    assert.equal(file.get("t").dtype, "I64", name);
    assert.equal(file.get("tokens").dtype, "I64", name);
    assert.equal(file.get("mask").dtype, "BOOL", name);
    assert.deepEqual(file.shape("tokens"), [batch, c.config!.text_ctx]);
    assert.deepEqual(file.shape("expected.out"), [batch, 6, 16, 16]);
    assert.equal(file.has("inpaint_image"), c.config!.inpaint, name);
    assert.equal(file.has("low_res"), c.config!.super_res, name);
    assert.deepEqual([...file.int32("t")], [999, 500, 3], name);
    const tokens = file.int32("tokens");
    assert.ok(
      tokens.every((v) => v >= 0 && v <= 50256),
      name,
    );
    assert.ok(
      file.float32("mask").every((v) => v === 0 || v === 1),
      name,
    );
    assert.ok(file.float32("expected.out").every(Number.isFinite), name);
  }
  const text2im = await readSafetensors(fixture("text2im.io.safetensors"));
  // First prompt: 8 real tokens then end-token padding, mask true on the real tokens only.
  assert.deepEqual(
    [...text2im.int32("tokens").subarray(0, 10)],
    [64, 1162, 12397, 5762, 257, 2266, 9563, 36224, 50256, 50256],
  );
  assert.deepEqual([...text2im.float32("mask").subarray(0, 10)], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
});

test("loss fixture: per-parameter gradients match the checkpoint's keys and shapes", async () => {
  const file = await readSafetensors(fixture("loss.text2im.safetensors"));
  assert.deepEqual([...file.int32("t")], [0, 1, 500, 999]);
  assert.deepEqual(file.shape("expected.mean_loss"), [1]);
  assert.ok(Math.abs(file.float32("expected.mean_loss")[0]! - 189.8613739013672) < 1e-4);
  const sd = await loadTorchCheckpoint(fixture("text2im.pt"));
  const grads = file.names().filter((n) => n.startsWith("grad."));
  assert.equal(grads.length, sd.size);
  for (const [key, t] of sd) assert.deepEqual(file.shape(`grad.${key}`), t.shape, key);
});

test("reads the sampling fixtures", async () => {
  for (const name of ["ddim_cfg", "ddpm_cfg", "inpaint_ddpm_cfg"]) {
    const file = await readSafetensors(fixture(`sample.${name}.safetensors`));
    assert.deepEqual(file.shape("start"), [1, 3, 16, 16]);
    assert.deepEqual(file.shape("result"), [1, 3, 16, 16]);
    assert.ok(file.names().some((n) => n.startsWith("noise.")));
    const sd = file.toStateDict();
    assert.equal(sd.get("result")!.sourceDtype, "float32");
  }
});

test("corrupt files give clear errors naming the file", async () => {
  const f32 = new Uint8Array(new Float32Array([1, 2]).buffer);
  const ok = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const cases: [string, Uint8Array, RegExp][] = [
    ["tiny", new Uint8Array(4), /not a safetensors file: only 4 bytes/],
    ["huge-header", build(ok, f32, 2 ** 40), /declares 1099511627776 header bytes/],
    ["not-json", build("x", f32, 2).fill(0x7b, 8, 10), /not valid UTF-8 JSON/],
    ["array", build([1, 2], f32), /expected a JSON object/],
    ["dtype", build({ a: { dtype: "F128", shape: [2], data_offsets: [0, 8] } }, f32), /'a' has unknown dtype F128/],
    ["shape", build({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, f32), /'a' has an invalid shape/],
    [
      "range",
      build({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, f32),
      /\[0, 16\] lie outside the 8-byte/,
    ],
    [
      "size",
      build({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f32),
      /F32 of shape \[3\] but spans 8 bytes/,
    ],
    [
      "overlap",
      build(
        {
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
        },
        f32,
      ),
      /'a' and 'b' overlap/,
    ],
    ["metadata", build({ __metadata__: { n: 1 }, ...ok }, f32), /__metadata__\['n'\] is not a string/],
  ];
  await withTempDir(async (dir) => {
    for (const [name, bytes, pattern] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeFileSync(path, bytes);
      await assert.rejects(readSafetensors(path), (e: unknown) => {
        assert.ok(e instanceof CheckpointError, name);
        assert.match(e.message, new RegExp(`${name}\\.safetensors`));
        assert.match(e.message, pattern);
        return true;
      });
      assert.throws(() => parseSafetensors(bytes, name), pattern);
    }
    await assert.rejects(readSafetensors(join(dir, "absent.safetensors")), /absent\.safetensors: no such file/);
    const file = await readSafetensors(build(ok, f32));
    assert.throws(() => file.get("b"), /no tensor named 'b'/);
    assert.throws(() => file.int32("a"), /'a' is F32, expected an integer dtype/);
  });
});
