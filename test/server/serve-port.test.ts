// `glide serve --port N` where N is taken: one line that says so, exit 1.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { glide } from "../cli/glide-cli.ts";
import { fixtureFiles } from "../pipelines/helpers.ts";

test("a busy port: one line naming it and --port, exit 1", async () => {
  const taken = createServer();
  await new Promise<void>((ready) => taken.listen(0, "127.0.0.1", ready));
  const port = (taken.address() as { port: number }).port;
  try {
    const { checkpoint, config } = fixtureFiles("text2im");
    const run = glide("serve", "--port", String(port), "--checkpoint", checkpoint, "--config", config);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `glide: port ${port} is in use: choose another with --port\n`);
    assert.doesNotMatch(run.stdout, /listening/);
  } finally {
    taken.close();
  }
});
