import assert from "node:assert/strict";
import { test } from "node:test";
import { runInWorker } from "../../src/runtime/worker.ts";

const tasks = new URL("./fixtures/worker-tasks.ts", import.meta.url);

test("a loop in a worker reports progress and returns while the main thread stays live", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const progress: number[] = [];
  const total = await runInWorker<{ steps: number }, number, number>(tasks, "sumLoop", { steps: 40 }, (p) =>
    progress.push(p),
  );
  clearInterval(timer);
  let expected = 0;
  for (let i = 0; i < 40; i++) expected += i * i + 14;
  assert.equal(total, expected);
  assert.deepEqual(progress, [...Array(40).keys()]);
  assert.ok(ticks >= 10, `main thread timer ticked ${ticks} times`);
});

test("an error in the worker rejects with its message", async () => {
  await assert.rejects(runInWorker(tasks, "fails", {}), /task failed on purpose/);
  await assert.rejects(runInWorker(tasks, "missing", {}), /no exported function 'missing'/);
});
