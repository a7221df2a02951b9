// `glide data build` and `glide data check` as a user runs them (child processes).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { glide } from "./glide-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "glide-cli-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("glide data build renders a small corpus that glide data check reads back", () => {
  const out = join(dir, "corpus");
  const args = ["data", "build", out, "--limit", "4", "--sources", "noto,twemoji", "--size", "16", "--validation", "0"];
  const build = glide(...args, "--workers", "1", "--openclipart-dir", join(dir, "none"));
  assert.equal(build.code, 0, build.stderr);
  assert.match(build.stderr, /rendering: 4 items in/, "progress on stderr");
  assert.match(build.stderr, /wrote .*corpus: 4 pairs \(train 4, validation 0\)/);
  const check = glide("data", "check", join(out, "16", "train"), "--resolution", "16");
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /\(folder\): 4 pairs, 0 skipped/);

  const again = glide(...args);
  assert.equal(again.code, 1, "an existing output is not overwritten");
  assert.match(again.stderr, /^glide: .*corpus already exists \(pass --force to replace it\)$/m);
});

test("mistakes get one clear line", () => {
  const source = glide("data", "build", join(dir, "x"), "--sources", "noto,clipart");
  assert.notEqual(source.code, 0, "an unknown source is refused");
  assert.match(
    source.stderr,
    /unknown source clipart; expected some of shapes, openmoji, noto, fluent-emoji, twemoji, openclipart/,
  );
  const missing = glide("data", "check", join(dir, "nowhere"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^glide: cannot read dataset .*nowhere: ENOENT/m);
});
