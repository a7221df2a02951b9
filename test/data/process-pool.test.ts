// One bad job cannot stop a ProcessPool: a worker that dies or hangs fails only its own job and is
// replaced; a worker module that cannot even start fails the pool with a clear message.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ProcessPool } from "../../packages/corpus/src/process-pool.ts";
import type { TestJob } from "./fixtures/misbehaving-worker.ts";

const WORKER = fileURLToPath(new URL("./fixtures/misbehaving-worker.ts", import.meta.url));

describe("process pool", () => {
  test("crashes, hangs and throws fail their own job; every other job completes", async () => {
    const pool = new ProcessPool<TestJob, { echo: number; pid: number }>({
      module: WORKER,
      workers: 2,
      timeoutMs: 1500,
    });
    try {
      const kinds: TestJob["kind"][] = ["echo", "crash", "echo", "hang", "echo", "throw", "echo", "crash", "echo"];
      const outcomes = await Promise.all(kinds.map((kind, value) => pool.run({ kind, value })));
      outcomes.forEach((outcome, i) => {
        const kind = kinds[i]!;
        if (kind === "echo") {
          assert.ok(outcome.ok, `job ${i} (echo) succeeds: ${JSON.stringify(outcome)}`);
          assert.equal(outcome.result.echo, i, "the worker's result comes back");
        } else {
          assert.ok(!outcome.ok, `job ${i} (${kind}) fails`);
          const expected = {
            crash: /renderer process died \(SIGKILL\)/,
            hang: /timed out after 1.5 s/,
            throw: /^bad input 5$/,
          };
          assert.match(outcome.reason, expected[kind]);
          assert.equal(outcome.crashed, kind !== "throw", `${kind}: crashed is reported`);
        }
      });
      assert.equal(pool.restarts, 3, "two crashes and one timeout replaced their workers");
    } finally {
      await pool.close();
    }
  });

  test("a worker module that cannot start rejects with a message naming it", async () => {
    const pool = new ProcessPool<TestJob, unknown>({ module: "/nonexistent/worker.ts", workers: 1, timeoutMs: 5000 });
    try {
      await assert.rejects(pool.run({ kind: "echo", value: 1 }), /worker \/nonexistent\/worker\.ts cannot start/);
    } finally {
      await pool.close();
    }
  });
});
