import assert from "node:assert/strict";
import { test } from "node:test";
import { float32ToHalf, float32ToHalfBits, halfToFloat32 } from "../../packages/glide-ts/src/io/half.ts";

const halfValue = (bits: number) => {
  const out = new Float32Array(1);
  halfToFloat32(Uint16Array.of(bits), out);
  return out[0]!;
};

test("float32 → half returns every half value's own bit pattern", () => {
  for (let h = 0; h < 65536; h++) {
    const exp = (h >> 10) & 0x1f;
    if (exp === 31 && (h & 0x3ff) !== 0) continue; // NaNs: any NaN pattern will do
    assert.equal(float32ToHalfBits(halfValue(h)), h, `pattern ${h.toString(16)}`);
  }
  assert.ok(Number.isNaN(halfValue(float32ToHalfBits(Number.NaN))));
});

test("float32 → half rounds to the nearest half, ties to even, overflow to infinity", () => {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 20000; i++) {
    const value = Math.fround((random() - 0.5) * 2 ** (random() * 40 - 26));
    const bits = float32ToHalfBits(value);
    const got = halfValue(bits);
    // No half between the two neighbours of the result is nearer to the value.
    for (const neighbour of [bits - 1, bits + 1]) {
      if (neighbour < 0 || (neighbour & 0x7fff) >= 0x7c00) continue;
      if (((neighbour ^ bits) & 0x8000) !== 0) continue;
      assert.ok(Math.abs(halfValue(neighbour) - value) >= Math.abs(got - value), `${value} → ${got}`);
    }
  }
  assert.equal(halfValue(float32ToHalfBits(1 + 2 ** -11)), 1); // tie → even mantissa (1.0)
  assert.equal(halfValue(float32ToHalfBits(1 + 3 * 2 ** -11)), 1 + 2 ** -9); // tie → even (…10)
  assert.equal(halfValue(float32ToHalfBits(70000)), Number.POSITIVE_INFINITY);
  assert.equal(halfValue(float32ToHalfBits(-1e-9)), -0);
  assert.deepEqual([...float32ToHalf(Float32Array.of(0.5, -2, 65504))], [0x3800, 0xc000, 0x7bff]);
});

test("convert --dtype float16 halves the file, keeps the configuration, loads back as float32", async () => {
  const { mkdtemp, stat } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { writeSafetensors, readSafetensors } = await import("../../packages/glide-ts/src/io/safetensors.ts");
  const { convertToSafetensors, loadCheckpointFile } = await import(
    "../../packages/glide-ts/src/io/checkpoint-file.ts"
  );
  const dir = await mkdtemp(join(tmpdir(), "glide-half-"));
  const data = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i) * 3);
  const source = join(dir, "w.safetensors");
  await writeSafetensors(
    source,
    { "a.weight": { shape: [64, 64], data, sourceDtype: "float32" } },
    { config: '{"x":1}', step: "7" },
  );
  const out = join(dir, "w16.safetensors");
  const summary = await convertToSafetensors(source, out, { dtype: "float16" });
  assert.equal(summary.dtype, "float16");
  const file = await readSafetensors(out);
  assert.equal(file.metadata.config, '{"x":1}');
  assert.equal(file.metadata.step, "7");
  assert.ok((await stat(out)).size < (await stat(source)).size * 0.55, "about half the bytes");
  const back = (await loadCheckpointFile(out)).stateDict.get("a.weight")!;
  assert.equal(back.sourceDtype, "float16");
  for (let i = 0; i < data.length; i++)
    assert.ok(Math.abs(back.data[i]! - data[i]!) <= 2 ** -11 * Math.abs(data[i]!) + 1e-7);
});
