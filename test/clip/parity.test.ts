// The parity tool on the CLIP fixtures: every case passes (tokenizer, towers and gradient, the
// released shapes, the whole guided run); a corrupted reference value fails its case; the CLI
// prints a PASS line per case.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSafetensors, writeSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { formatResult, formatSummary } from "../../packages/parity/src/report.ts";
import { runParity } from "../../packages/parity/src/run.ts";
import type { CaseResult, Manifest } from "../../packages/parity/src/types.ts";
import { CLIP_FIXTURES, clipManifest } from "./fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "glide-clip-parity-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const manifest = clipManifest() as unknown as Manifest;

function byName(results: CaseResult[], name: string): CaseResult {
  const r = results.find((x) => x.name === name);
  assert.ok(r, `no result for case '${name}'`);
  return r;
}

test("every case of the CLIP fixtures passes, each by its kind", async () => {
  const report = await runParity({ dir: CLIP_FIXTURES });
  for (const r of report.results) assert.equal(r.status, "pass", formatResult(r));
  assert.equal(report.ok, true, formatSummary(report));
  const kinds = Object.fromEntries(report.results.map((r) => [r.name, r.kind]));
  assert.deepEqual(kinds, {
    clip: "clip",
    clip_tokenizer: "clip_tokenizer",
    base: "forward",
    "sample.clip_guided": "clip_sample",
    clip_official_shapes: "clip_shapes",
  });
  const outputs = (name: string) => byName(report.results, name).checks.map((c) => c.output);
  for (const output of [
    "text_emb",
    "image_emb_norm",
    "logits",
    "objective",
    "grad.x",
    "tokens",
    "params.image_encoder",
  ]) {
    assert.ok(outputs("clip").includes(output), `clip checks ${output}`);
  }
  assert.deepEqual(outputs("sample.clip_guided").sort(), [
    "cond_fn_t",
    "glide_tokens",
    "grad.steps",
    "result",
    "step",
    "x.steps",
  ]);
  // Float32 precision: the gradient within ~1e-6 of its scale, the whole run within ~1e-5.
  const grad = byName(report.results, "clip").checks.find((c) => c.output === "grad.x")!;
  assert.ok(grad.error < 2e-5, `grad.x error ${grad.error}`);
  const result = byName(report.results, "sample.clip_guided").checks.find((c) => c.output === "result")!;
  assert.ok(result.error < 5e-5, `result error ${result.error}`);
});

async function corruptedCopy(file: string, tensor: string, index: number, delta: number): Promise<string> {
  const source = await readSafetensors(join(CLIP_FIXTURES, file));
  const data = source.get(tensor).data as Float32Array;
  data[index] = data[index]! + delta;
  const path = join(scratch, `corrupt-${file}`);
  await writeSafetensors(path, source.tensors);
  return path;
}

test("a corrupted gradient or result fails its case with the error planted", async () => {
  const corrupted: Manifest = {
    cases: {
      ...manifest.cases,
      clip: { ...manifest.cases.clip!, io: await corruptedCopy("clip.io.safetensors", "grad.x", 40, 0.01) },
      "sample.clip_guided": {
        ...manifest.cases["sample.clip_guided"]!,
        file: await corruptedCopy("sample.clip_guided.safetensors", "result", 3, -0.01),
      },
    },
  };
  const report = await runParity({ dir: CLIP_FIXTURES, manifest: corrupted, only: ["clip", "sample.clip_guided"] });
  assert.equal(report.ok, false);
  const clip = byName(report.results, "clip");
  assert.equal(clip.status, "fail", formatResult(clip));
  const grad = clip.checks.find((c) => c.output === "grad.x")!;
  assert.ok(Math.abs(grad.error - 0.01) < 1e-4, formatResult(clip));
  assert.ok(clip.checks.filter((c) => c.output !== "grad.x").every((c) => c.error <= c.tolerance));
  const sampled = byName(report.results, "sample.clip_guided");
  assert.equal(sampled.status, "fail", formatResult(sampled));
  assert.ok(Math.abs(sampled.checks.find((c) => c.output === "result")!.error - 0.01) < 1e-4);
});

test("the parity CLI runs the CLIP fixtures: a PASS line per case, exit status 0", () => {
  const run = spawnSync(
    process.execPath,
    ["--conditions=glide-ts-source", "--import", "tsx", "packages/parity/src/cli.ts", CLIP_FIXTURES],
    {
      encoding: "utf-8",
    },
  );
  assert.equal(run.status, 0, run.stdout + run.stderr);
  for (const name of Object.keys(manifest.cases)) {
    assert.match(run.stdout, new RegExp(`^PASS +${name.replace(".", "\\.")} `, "m"));
  }
  assert.match(run.stdout.trim().split("\n").at(-1)!, /5 cases: 5 passed, 0 failed/);
});
