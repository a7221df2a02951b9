// Slow and refused clients do not hold connections: a body that arrives too slowly is answered 408
// (in OpenAI's error shape) and closed; a request refused before its body is read (no API key) is
// answered and closed without waiting for the body; the open connections have a ceiling.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import type { GlideServer } from "../../packages/app/src/server/server.ts";
import { fixtureServer, readMetric } from "./helpers.ts";

let server: GlideServer;
/** What the server reports as its own failures. */
const logged: string[] = [];
before(async () => {
  server = await fixtureServer({
    apiKeys: ["sk-slow"],
    limits: { requestTimeoutMs: 1000, maxConnections: 8 },
    log: (message) => logged.push(message),
  });
});
after(() => server.shutdown());

/** Opens a socket and writes `head`; resolves with everything received and when the socket closed. */
function talk(head: string): { socket: Socket; done: Promise<{ text: string; closedAfterMs: number }> } {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  const started = Date.now();
  let text = "";
  socket.setEncoding("utf8");
  socket.on("error", () => undefined); // a reset connection closes too
  socket.on("data", (chunk: string) => (text += chunk));
  socket.write(head);
  const done = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    socket.on("close", () => resolve({ text, closedAfterMs: Date.now() - started }));
  });
  // Never left open by a failing test.
  setTimeout(() => socket.destroy(), 15_000).unref();
  return { socket, done };
}

test("a body that stalls is answered 408 in OpenAI's error shape and its connection closed", async () => {
  const head =
    "POST /v1/images/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-slow\r\n" +
    'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"prompt":';
  const { done } = talk(head);
  const { text, closedAfterMs } = await done;
  assert.match(text, /^HTTP\/1\.1 408 /);
  const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
  assert.equal(body.error.code, "request_timeout");
  assert.equal(body.error.type, "invalid_request_error");
  assert.ok(closedAfterMs < 8000, `closed after ${closedAfterMs} ms`);
});

test("a request refused before its body (no key) is answered 401 and closed without the body", async () => {
  const head =
    "POST /v1/images/generations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
    "content-length: 100000\r\n\r\n{";
  const { socket, done } = talk(head);
  const trickle = setInterval(() => socket.writable && socket.write(" "), 50);
  const { text, closedAfterMs } = await done;
  clearInterval(trickle);
  assert.match(text, /^HTTP\/1\.1 401 /);
  assert.match(text, /connection: close/i);
  assert.ok(closedAfterMs < 900, `closed after ${closedAfterMs} ms, before the request timeout`);
});

test("a body that trickles in, a byte at a time, is cut at the request timeout too", async () => {
  const head =
    "POST /v1/images/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-slow\r\n" +
    'content-type: application/json\r\ncontent-length: 100000\r\n\r\n{"prompt":"';
  const { socket, done } = talk(head);
  const trickle = setInterval(() => socket.writable && socket.write("a"), 50);
  const { text, closedAfterMs } = await done;
  clearInterval(trickle);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.ok(closedAfterMs < 8000, `closed after ${closedAfterMs} ms`);
});

test("the server takes at most maxConnections connections at once: one more is closed unanswered", async () => {
  assert.equal(server.app.server.maxConnections, 8);
  const held = Array.from({ length: 8 }, () => talk("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
  await new Promise((r) => setTimeout(r, 200));
  const extra = talk("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
  const { text, closedAfterMs } = await extra.done;
  assert.equal(text, "", "no answer past the ceiling");
  assert.ok(closedAfterMs < 800, `closed after ${closedAfterMs} ms, before the held ones time out`);
  for (const { socket } of held) socket.destroy();
});

test("a client that closes mid-body is not the server's failure: nothing logged, no job, the server carries on", async () => {
  const bodies = [
    ["/v1/images/generations", "application/json", '{"prompt":"a red'],
    [
      "/v1/images/variations",
      "multipart/form-data; boundary=XX",
      '--XX\r\ncontent-disposition: form-data; name="image"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG',
    ],
  ];
  for (const [path, type, partial] of bodies) {
    const { socket, done } = talk(
      `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-slow\r\n` +
        `content-type: ${type}\r\ncontent-length: 100000\r\n\r\n${partial}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await done;
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(logged, []);
  assert.equal(await readMetric(server.url, 'glide_jobs_total{outcome="failed"}'), 0);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});
