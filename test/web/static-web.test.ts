// The static server of `glide serve --web`: every answer carries the cross-origin isolation
// headers; files get their MIME types (application/wasm for WebAssembly); paths cannot leave the
// folder however they are spelled; only GET and HEAD; ETags revalidate; a folder without a built
// page is refused with a message that says what to run.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { filePathFor, type StaticWebServer, serveStaticWeb } from "../../packages/app/src/server/static-web.ts";

const parent = mkdtempSync(join(tmpdir(), "glide-static-"));
const dir = join(parent, "site");
let server: StaticWebServer;

before(async () => {
  mkdirSync(join(dir, "ort"), { recursive: true });
  mkdirSync(join(dir, "models"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>page</title>");
  writeFileSync(join(dir, "app.js"), "export {};");
  writeFileSync(join(dir, "app.css"), "body{}");
  writeFileSync(join(dir, "ort", "runtime.wasm"), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(dir, "ort", "runtime.mjs"), "export default 1;");
  writeFileSync(join(dir, "models", "m.safetensors"), Buffer.alloc(64, 1));
  writeFileSync(join(dir, "manifest.json"), "{}");
  writeFileSync(join(parent, "secret.txt"), "outside the folder");
  server = await serveStaticWeb({ dir, port: 0 });
});
after(() => server?.close());

/** A request with the path sent exactly as written (fetch would normalise `..` away). */
function raw(
  path: string,
  method = "GET",
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("files are served with their MIME types and the cross-origin isolation headers", async () => {
  const expected: Record<string, string> = {
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
    "/app.css": "text/css; charset=utf-8",
    "/ort/runtime.wasm": "application/wasm",
    "/ort/runtime.mjs": "text/javascript; charset=utf-8",
    "/manifest.json": "application/json; charset=utf-8",
    "/models/m.safetensors?v=0123abcd": "application/octet-stream",
  };
  for (const [path, type] of Object.entries(expected)) {
    const answer = await raw(path);
    assert.equal(answer.status, 200, path);
    assert.equal(answer.headers["content-type"], type, path);
    assert.equal(answer.headers["cross-origin-opener-policy"], "same-origin", path);
    assert.equal(answer.headers["cross-origin-embedder-policy"], "require-corp", path);
    assert.equal(answer.headers["cross-origin-resource-policy"], "same-origin", path);
    assert.equal(answer.headers["x-content-type-options"], "nosniff", path);
  }
  assert.deepEqual([...(await raw("/ort/runtime.wasm")).body], [0, 97, 115, 109]);
  assert.equal((await raw("/models/m.safetensors")).headers["content-length"], "64");
});

test("no path leaves the folder, however it is spelled", async () => {
  for (const path of [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/ort/..%2f..%2fsecret.txt",
    "/ort/..%5c..%5csecret.txt",
    "/%00index.html",
    "/%E0%A4%A",
    "//../secret.txt",
  ]) {
    const answer = await raw(path);
    assert.ok(answer.status === 400 || answer.status === 404, `${path}: ${answer.status}`);
    assert.ok(!answer.body.toString().includes("outside the folder"), path);
  }
  assert.equal(filePathFor(dir, "/ort/../app.js"), null, "'..' is refused even where it stays inside");
  assert.equal(filePathFor(dir, "/ort/runtime.wasm"), join(dir, "ort", "runtime.wasm"));
  assert.equal(filePathFor(dir, "/"), dir);
  assert.equal((await raw("/nothing.js")).status, 404);
  assert.equal((await raw("/ort/")).status, 404, "a folder without index.html, and no listing");
});

test("only GET and HEAD; HEAD has the headers without the body; an ETag revalidates", async () => {
  const post = await raw("/index.html", "POST");
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, "GET, HEAD");
  const head = await raw("/app.js", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.headers["content-length"], "10");
  assert.equal(head.body.length, 0);
  assert.equal(head.headers["cache-control"], "no-cache");
  const again = await raw("/app.js", "GET", { "if-none-match": String(head.headers.etag) });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
});

test("a folder without a built page is refused with what to run", async () => {
  await assert.rejects(serveStaticWeb({ dir: join(parent, "missing"), port: 0 }), /npm run build:web/);
});
