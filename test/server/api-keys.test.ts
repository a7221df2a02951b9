// API keys (src/server/api-keys.ts): where they come from and how a header is checked.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ApiKeys, loadApiKeys, parseKeyList } from "../../packages/app/src/server/api-keys.ts";
import { tempDir } from "../pipelines/helpers.ts";

test("keys from GLIDE_API_KEYS and a key file (one a line, comments allowed)", async () => {
  const file = join(tempDir(), "keys.txt");
  writeFileSync(file, "# the team's keys\nsk-file-1\n\n  sk-file-2  # ci\n");
  assert.deepEqual(await loadApiKeys({ file, env: { GLIDE_API_KEYS: "sk-env-1, sk-env-2" } }), [
    "sk-env-1",
    "sk-env-2",
    "sk-file-1",
    "sk-file-2",
  ]);
  assert.deepEqual(await loadApiKeys({ env: {} }), []);
  await assert.rejects(loadApiKeys({ file: join(tempDir(), "none.txt"), env: {} }), /cannot read the API key file/);
  const empty = join(tempDir(), "empty.txt");
  writeFileSync(empty, "# nothing\n");
  await assert.rejects(loadApiKeys({ file: empty, env: {} }), /holds no key/);
  assert.deepEqual(parseKeyList("a b,c\nd"), ["a", "b", "c", "d"]);
});

test("a Bearer header is accepted only with a known key, of any length", () => {
  const keys = new ApiKeys(["sk-one", "sk-a-much-longer-second-key"]);
  assert.equal(keys.required, true);
  assert.equal(keys.accepts("Bearer sk-one"), true);
  assert.equal(keys.accepts("bearer sk-a-much-longer-second-key"), true);
  for (const header of [undefined, "", "sk-one", "Bearer", "Bearer sk-on", "Bearer sk-one2", "Basic sk-one"]) {
    assert.equal(keys.accepts(header), false, String(header));
  }
  assert.equal(new ApiKeys([]).required, false);
});
