// API keys are checked on the route the router resolved: no spelling of a protected path (percent-
// encoded, absolute-form, doubled slashes, other case, a query or trailing slash) reaches it without
// a key, while the public routes (health, the UI) stay open.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, test } from "node:test";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { fixtureServer } from "./helpers.ts";

const KEY = "sk-route-test";
let server: GlideServer;

before(async () => {
  server = await fixtureServer({ apiKeys: [KEY] });
});
after(() => server.shutdown());

/** A request with its target sent exactly as written. */
function rawRequest(method: string, target: string, headers: Record<string, string> = {}, body = ""): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path: target, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const PROTECTED: [method: string, path: string][] = [
  ["POST", "/v1/images/generations"],
  ["POST", "/v1/images/edits"],
  ["POST", "/v1/images/variations"],
  ["POST", "/v1/images/jobs"],
  ["GET", "/v1/images/jobs"],
  ["GET", "/v1/models"],
  ["GET", "/v1/models/fixture"],
];

function spellings(path: string): string[] {
  const { host } = new URL(server.url);
  return [
    path,
    path.replace("/v1/", "/%761/"),
    path.replace("/v1/", "/%76%31/"),
    path.replace("/v1/", "/v%31/"),
    path.replace("/images/", "/%69mages/"),
    `http://${host}${path}`,
    `http://${host}${path.replace("/v1/", "/%761/")}`,
    `//${path.slice(1)}`,
    path.replace("/v1/", "/v1//"),
    path.toUpperCase(),
    path.replace("/v1/", "/V1/"),
    `${path}?a=1`,
    `${path}/`,
    `${path}#x`,
  ];
}

test("every protected route refuses every spelling of its path without a key", async () => {
  const json = { "content-type": "application/json" };
  const body = JSON.stringify({ prompt: "a red heart", steps: 1, n: 1, size: "16x16" });
  for (const [method, path] of PROTECTED) {
    for (const target of spellings(path)) {
      const payload = method === "POST" ? body : "";
      const withoutKey = await rawRequest(method, target, json, payload);
      const withKey = await rawRequest(
        method,
        target,
        { ...json, authorization: `Bearer ${KEY}` },
        method === "POST" ? body : "",
      );
      // Refused, or (a spelling the router does not resolve) not found with the key as well.
      assert.ok(withoutKey === 401 || (withoutKey === 404 && withKey === 404), `${method} ${target}: ${withoutKey}`);
      const wrongKey = await rawRequest(method, target, { ...json, authorization: "Bearer sk-wrong" }, payload);
      assert.ok(wrongKey === 401 || wrongKey === 404, `${method} ${target} with a wrong key: ${wrongKey}`);
    }
    // The plain spelling and the encoded ones do reach the route with the key.
    for (const target of spellings(path).slice(0, 7)) {
      const status = await rawRequest(method, target, { ...json, authorization: `Bearer ${KEY}` }, "");
      assert.notEqual(status, 404, `${method} ${target} should reach its route`);
      assert.notEqual(status, 401, `${method} ${target} with the key`);
    }
  }
});

test("health, metrics, the UI and its config answer without a key", async () => {
  for (const path of ["/healthz", "/readyz", "/metrics", "/ui/config", "/%68ealthz"]) {
    assert.equal(await rawRequest("GET", path), 200, path);
  }
  assert.notEqual(await rawRequest("GET", "/"), 401);
});

test("a path with a bad percent-escape is a 400 in OpenAI's error shape, not a framework code", async () => {
  const { hostname, port } = new URL(server.url);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: "GET", path: "/v1/models/%zz" }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve(`${res.statusCode} ${text}`));
    });
    req.on("error", reject);
    req.end();
  });
  assert.match(body, /^400 /);
  const error = JSON.parse(body.slice(4)).error;
  assert.equal(error.type, "invalid_request_error");
  assert.match(error.message, /bad percent-escape/);
  assert.doesNotMatch(body, /FST_ERR/);
});
