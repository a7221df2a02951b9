// The progress display of the sampling commands (src/cli/progress.ts).

import assert from "node:assert/strict";
import { test } from "node:test";
import { stageProgress, warmUpEvaluations } from "../../packages/app/src/cli/progress.ts";
import { formatClock, formatSeconds, ProgressBar } from "../../packages/glide-ts/src/util/progress-bar.ts";

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (text: string) => chunks.push(text) };
}

test("on a terminal: a bar redrawn in place with steps/s and ETA, then a summary line", () => {
  const s = stream(true);
  const bar = new ProgressBar("sampling", 4, { stream: s });
  bar.start();
  assert.ok(s.chunks.at(-1)!.startsWith("\r\x1b[K"), "the line is cleared and redrawn");
  assert.match(s.chunks.at(-1)!, /sampling ░+ 0\/4 {2}… steps\/s {2}ETA --:--$/);
  bar.update(4);
  assert.match(s.chunks.at(-1)!, /^sampling: 4 steps in \d+\.\d s \([\d.]+ steps\/s\)\n$/);
});

test("a resumed count, a detail, periodic lines off a terminal, and a summary when stopped early", () => {
  const s = stream(false);
  const bar = new ProgressBar("training", 10, { stream: s, unit: "steps", logEveryMs: 0 });
  bar.resume(4);
  bar.update(5, "loss 0.1234");
  assert.match(s.chunks.at(-1)!, /^training 5\/10 \(50\.0%\) {2}[\d.]+ steps\/s {2}ETA \d+:\d\d {2}loss 0\.1234\n$/);
  bar.end();
  assert.match(s.chunks.at(-1)!, /^training: 1 steps of 10 in [\d.]+ s \([\d.]+ steps\/s, loss 0\.1234\)\n$/);
  const count = s.chunks.length;
  bar.end();
  assert.equal(s.chunks.length, count, "the summary is printed once");
});

test("elsewhere: only the summary line of each stage", () => {
  const s = stream(false);
  const report = stageProgress(s);
  report({ kind: "setup", stage: "base" });
  for (let step = 0; step <= 3; step++)
    report({ kind: "step", stage: "base", step, total: 3, elapsedSeconds: 0, etaSeconds: null });
  report({ kind: "setup", stage: "upsample" });
  for (let step = 0; step <= 2; step++)
    report({ kind: "step", stage: "upsample", step, total: 2, elapsedSeconds: 0, etaSeconds: null });
  assert.equal(s.chunks.length, 2);
  assert.match(s.chunks[0]!, /^sampling: 3 steps in/);
  assert.match(s.chunks[1]!, /^upsampling: 2 steps in/);
  const quiet = stream(true);
  const silent = stageProgress(quiet, true);
  silent({ kind: "step", stage: "base", step: 0, total: 1, elapsedSeconds: 0, etaSeconds: null });
  silent({ kind: "step", stage: "base", step: 1, total: 1, elapsedSeconds: 0, etaSeconds: null });
  assert.equal(quiet.chunks.length, 0, "quiet writes nothing");
});

test("durations for people", () => {
  assert.equal(formatSeconds(2.14), "2.1 s");
  assert.equal(formatSeconds(45.2), "45 s");
  assert.equal(formatSeconds(200), "3 min 20 s");
  assert.equal(formatClock(65), "1:05");
  assert.equal(formatClock(3725), "1:02:05");
});

test("a PLMS stage counts model evaluations and says how many were steps", () => {
  const s = stream(false);
  const report = stageProgress(s, false, { base: "plms", upsample: "ddim" });
  for (let step = 0; step <= 26; step++)
    report({ kind: "step", stage: "base", step, total: 26, elapsedSeconds: 0, etaSeconds: null });
  for (let step = 0; step <= 27; step++)
    report({ kind: "step", stage: "upsample", step, total: 27, elapsedSeconds: 0, etaSeconds: null });
  assert.match(
    s.chunks[0]!,
    /^sampling: 26 evaluations in .*evaluations\/s, plms: 25 steps \+ 1 warm-up evaluation\)\n$/,
  );
  assert.match(s.chunks[1]!, /^upsampling: 27 steps in [^,]*\)\n$/, "other samplers: steps, no note");
  assert.equal(warmUpEvaluations("plms", 1), 0, "a single PLMS step is evaluated once");
  assert.equal(warmUpEvaluations("ddim", 26), 0);
});
