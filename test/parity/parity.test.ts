// The parity tool on the reference fixtures: every case passes; a kind nothing runs, a corrupted
// reference value and a missing file each fail the run; the fp16 checkpoint gives the text2im
// forward pass within fp16 rounding; the CLI prints a line per case and sets its exit status.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSafetensors, writeSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { CASE_KINDS } from "../../packages/parity/src/kinds/index.ts";
import { samplerSpecOf } from "../../packages/parity/src/kinds/sample.ts";
import { formatChecks, formatResult, formatSummary } from "../../packages/parity/src/report.ts";
import { ParityUsageError, runParity } from "../../packages/parity/src/run.ts";
import type { CaseResult, Manifest } from "../../packages/parity/src/types.ts";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";

const manifest = fixtureManifest<Manifest>();
const scratch = mkdtempSync(join(tmpdir(), "glide-parity-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

// The training-loss kind is built elsewhere; until it is registered, its cases are excluded
// explicitly (and reported as such). Once registered, they run here like every other kind.
const EXCLUDE = CASE_KINDS.some((k) => k.kind === "loss") ? [] : ["loss"];

function byName(results: CaseResult[], name: string): CaseResult {
  const r = results.find((x) => x.name === name);
  assert.ok(r, `no result for case '${name}'`);
  return r;
}

function describe(r: CaseResult): string {
  return formatResult(r);
}

test("every case of the reference fixtures passes", async () => {
  const report = await runParity({ dir: FIXTURES, exclude: EXCLUDE });
  for (const r of report.results) {
    assert.ok(r.status === "pass" || (r.status === "excluded" && EXCLUDE.includes(r.kind)), describe(r));
  }
  assert.equal(report.ok, true, formatSummary(report));

  // Every manifest case is reported, and every kind the fixtures hold actually ran.
  for (const name of Object.keys(manifest.cases)) byName(report.results, name);
  const ran = new Set(report.results.filter((r) => r.status === "pass").map((r) => r.kind));
  for (const kind of ["tokenizer", "schedule", "forward", "sample"]) assert.ok(ran.has(kind), `no ${kind} case ran`);
  assert.equal(report.results.filter((r) => r.kind === "tokenizer").length, 6);
  for (const name of ["sample.ddpm_cfg", "sample.ddim_cfg", "sample.inpaint_ddpm_cfg"]) {
    const r = byName(report.results, name);
    assert.deepEqual(
      r.checks.map((c) => c.output),
      ["result"],
      describe(r),
    );
  }
  for (const name of ["text2im", "inpaint", "superres", "superres_inpaint"]) {
    const outputs = byName(report.results, name).checks.map((c) => c.output);
    assert.deepEqual(outputs.sort(), ["out", "params", "xf_out", "xf_proj"], name);
  }
  if (EXCLUDE.length > 0) assert.equal(byName(report.results, "loss.text2im").status, "excluded");
});

test("a case of a kind nothing runs fails the run unless its kind is excluded", async () => {
  const odd: Manifest = {
    cases: {
      "frobnicate.one": { file: "whatever.safetensors" },
      mystery: { note: "no config, no kind" },
      text2im: manifest.cases.text2im!,
    },
  };
  const only = Object.keys(odd.cases);
  const report = await runParity({ dir: FIXTURES, manifest: odd, only });
  assert.equal(report.ok, false);
  assert.equal(byName(report.results, "frobnicate.one").status, "unsupported");
  assert.match(byName(report.results, "frobnicate.one").message!, /no runner for kind 'frobnicate'/);
  assert.equal(byName(report.results, "mystery").kind, "unknown");
  assert.equal(byName(report.results, "mystery").status, "unsupported");
  assert.equal(byName(report.results, "text2im").status, "pass");
  assert.match(formatResult(byName(report.results, "frobnicate.one")), /^FAIL +frobnicate\.one +frobnicate/);

  const excluded = await runParity({ dir: FIXTURES, manifest: odd, only, exclude: ["frobnicate", "unknown"] });
  assert.equal(excluded.ok, true, formatSummary(excluded));
  assert.equal(byName(excluded.results, "frobnicate.one").status, "excluded");

  // An explicit `kind` field wins over the name.
  const explicit = await runParity({
    dir: FIXTURES,
    manifest: { cases: { "sample.x": { kind: "frobnicate" } } },
    only: ["sample.x"],
  });
  assert.equal(explicit.results[0]!.kind, "frobnicate");
  assert.equal(explicit.ok, false);
});

test("excluding a kind no case has, or naming an unknown case, is a usage error", async () => {
  await assert.rejects(runParity({ dir: FIXTURES, exclude: ["los"] }), ParityUsageError);
  await assert.rejects(runParity({ dir: FIXTURES, only: ["nope"] }), /no case named 'nope'/);
  await assert.rejects(runParity({ dir: scratch }), /manifest\.json: no such file/);
});

async function corruptedCopy(file: string, tensor: string, index: number, delta: number): Promise<string> {
  const source = await readSafetensors(join(FIXTURES, file));
  const data = source.get(tensor).data as Float32Array;
  data[index] = data[index]! + delta;
  const path = join(scratch, `corrupt-${file}`);
  await writeSafetensors(path, source.tensors);
  return path;
}

test("a corrupted reference value makes its case fail, with the error it found", async () => {
  const forwardIo = await corruptedCopy("text2im.io.safetensors", "expected.out", 17, 0.01);
  const sampleFile = await corruptedCopy("sample.ddpm_cfg.safetensors", "result", 5, -0.02);
  const corrupted: Manifest = {
    cases: {
      text2im: { ...manifest.cases.text2im!, io: forwardIo },
      "sample.ddpm_cfg": { ...manifest.cases["sample.ddpm_cfg"]!, file: sampleFile },
    },
  };
  const report = await runParity({ dir: FIXTURES, manifest: corrupted, only: Object.keys(corrupted.cases) });
  assert.equal(report.ok, false);

  const forward = byName(report.results, "text2im");
  assert.equal(forward.status, "fail", describe(forward));
  const out = forward.checks.find((c) => c.output === "out")!;
  assert.ok(Math.abs(out.error - 0.01) < 1e-4, `out error ${out.error} should be the 0.01 planted`);
  assert.ok(
    forward.checks.filter((c) => c.output !== "out").every((c) => c.error <= c.tolerance),
    "the other outputs still pass",
  );
  assert.match(describe(forward), /^FAIL +text2im +forward +out=1e-2/);

  const sampled = byName(report.results, "sample.ddpm_cfg");
  assert.equal(sampled.status, "fail", describe(sampled));
  assert.ok(Math.abs(sampled.checks[0]!.error - 0.02) < 1e-4, describe(sampled));
});

test("a case whose files are missing fails with the reason", async () => {
  const broken: Manifest = {
    cases: {
      text2im: { ...manifest.cases.text2im!, io: "no-such.io.safetensors" },
      "sample.ddim_cfg": { ...manifest.cases["sample.ddim_cfg"]!, model: "absent" },
    },
  };
  const report = await runParity({ dir: FIXTURES, manifest: broken, only: Object.keys(broken.cases) });
  assert.equal(report.ok, false);
  assert.equal(byName(report.results, "text2im").status, "error");
  assert.match(byName(report.results, "text2im").message!, /no-such\.io\.safetensors: no such file/);
  assert.match(byName(report.results, "sample.ddim_cfg").message!, /no model case 'absent'/);
  assert.match(describe(byName(report.results, "text2im")), /^FAIL .*error: /);
});

test("the text2im forward case with the float16 checkpoint matches within fp16 rounding", async () => {
  const FP16_TOLERANCE = 5e-3;
  const fp16: Manifest = {
    cases: {
      text2im_fp16: { ...manifest.cases.text2im!, checkpoint: "text2im.fp16.pt", tolerance: FP16_TOLERANCE },
    },
  };
  const report = await runParity({ dir: FIXTURES, manifest: fp16, only: ["text2im_fp16"] });
  const r = byName(report.results, "text2im_fp16");
  assert.equal(r.status, "pass", describe(r));
  assert.equal(r.kind, "forward");
  const out = r.checks.find((c) => c.output === "out")!;
  // The weights really are rounded (not the float32 file again), and the rounding stays small.
  assert.ok(out.error > 1e-5 && out.error <= FP16_TOLERANCE, `fp16 out error ${out.error}`);
  assert.equal(r.checks.find((c) => c.output === "params")!.error, 0);
});

test("the manifest's sampler strings are understood", () => {
  const spec = (entry: Record<string, unknown>) => samplerSpecOf({ name: "s", kind: "sample", entry });
  assert.deepEqual(spec({ sampler: "ddpm (p_sample_loop)", timestep_respacing: "10" }), {
    name: "ddpm",
    steps: "10",
    eta: undefined,
  });
  assert.deepEqual(spec({ sampler: "ddim eta=0", timestep_respacing: "ddim10" }), {
    name: "ddim",
    steps: "ddim10",
    eta: 0,
  });
  assert.equal(spec({ sampler: "DDIM eta=0.5" }).eta, 0.5);
  assert.equal(spec({ sampler: "dpm++2m" }).name, "dpm++2m");
  assert.throws(() => spec({ sampler: "euler" }), /unknown sampler 'euler'/);
  assert.throws(() => spec({ sampler: "ddimx" }), /unknown sampler/);
  assert.throws(() => spec({}), /field 'sampler' must be a string/);
});

test("a case with many outputs is one readable line: its count, failures and the closest to failing", () => {
  const checks = Array.from({ length: 30 }, (_, i) => ({
    output: `grad.p${i}`,
    metric: "max-abs" as const,
    error: i === 7 ? 3e-3 : 1e-8 * i,
    tolerance: 1e-6 * (i + 1),
  }));
  const line = formatChecks(checks);
  assert.match(line, /^30 outputs, 1 beyond tolerance; closest to failing: grad\.p7=3e-3 \(max abs err, tol 8e-6\)/);
  assert.ok(line.length < 400, `line of ${line.length} characters`);
  assert.match(formatChecks(checks.slice(0, 3)), /^grad\.p0=0 \(max abs err, tol 1e-6\) {2}grad\.p1=1e-8 /);
});

function parityCli(args: string[]) {
  const run = spawnSync(
    process.execPath,
    ["--conditions=glide-ts-source", "--import", "tsx", "packages/parity/src/cli.ts", ...args],
    { encoding: "utf-8" },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test("the parity CLI prints one line per case and exits non-zero on any failure", async () => {
  const ok = parityCli([FIXTURES, ...EXCLUDE.flatMap((k) => ["--exclude", k])]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const lines = ok.stdout.trim().split("\n");
  for (const name of ["text2im", "sample.ddpm_cfg", "sample.inpaint_ddpm_cfg", "tokenizer.2"]) {
    assert.ok(
      lines.some((l) => new RegExp(`^PASS +${name.replace(".", "\\.")} `).test(l)),
      `no PASS line for ${name}`,
    );
  }
  assert.match(lines.at(-1)!, /cases: \d+ passed, 0 failed/);

  const full = parityCli([FIXTURES, "--only", "text2im,loss.text2im"]);
  if (EXCLUDE.length > 0) {
    assert.equal(full.code, 1, full.stdout);
    assert.match(full.stdout, /^FAIL +loss\.text2im +loss +no runner for kind 'loss'/m);
  }

  const usage = parityCli([]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /expected one directory/);
});
