// `glide worker` stopped while its Redis is down: BullMQ's close waits for Redis to answer, so the
// worker used to hang on SIGTERM. It exits within seconds; a second signal exits at once.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { killAll, queueWorker, until } from "./glide-processes.ts";
import { startRedisServer } from "./redis-server.ts";

after(killAll);

for (const signals of [["SIGTERM"], ["SIGINT", "SIGINT"]] as const) {
  test(`a worker whose Redis is gone exits after ${signals.join(" then ")}`, async () => {
    const redis = await startRedisServer();
    const worker = await queueWorker(redis.url);
    await redis.stop();
    const started = performance.now();
    for (const signal of signals) {
      worker.child.kill(signal);
      await until(
        () => worker.stdout.includes(`${signal}: finishing`) || worker.child.exitCode !== null,
        "the first signal's answer",
      );
    }
    const code = await Promise.race([
      worker.exited,
      new Promise((resolve) => setTimeout(() => resolve("hung"), 30_000)),
    ]);
    const seconds = (performance.now() - started) / 1000;
    if (signals.length === 1) {
      assert.equal(code, 0, `exit code (after ${seconds.toFixed(1)} s)\n${worker.stdout}`);
      assert.match(worker.stdout, /stopped\n$/);
    } else {
      assert.equal(code, 1, `exit code (after ${seconds.toFixed(1)} s)\n${worker.stdout}`);
      assert.match(worker.stdout, /SIGINT again: exiting now/);
    }
  });
}
