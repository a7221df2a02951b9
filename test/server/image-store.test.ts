// `url` results (src/server/image-store.ts): stored under unguessable names, gone when they expire.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ImageStore } from "../../packages/app/src/server/image-store.ts";

test("a stored image is there until its time is up, then deleted; closing removes the folder", async () => {
  const store = await ImageStore.create(60);
  const name = await store.put(new Uint8Array([1, 2, 3]));
  assert.match(name, /^[0-9a-f-]{36}\.png$/);
  assert.equal(store.has(name), true);
  assert.equal(store.has("other.png"), false);
  await store.sweep(Date.now() + 30_000);
  assert.equal(store.has(name), true);
  await store.sweep(Date.now() + 61_000);
  assert.equal(existsSync(join(store.dir, name)), false);
  assert.equal(store.has(name), false);
  await store.close();
  assert.equal(existsSync(store.dir), false);
});
