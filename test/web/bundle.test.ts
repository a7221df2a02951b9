// `npm run build:web`'s folder: the page script and the worker hold no Node built-in, Node-only
// package or Node-side module (esbuild's metafile says what went in); the worker runs the core on
// onnxruntime-web's build that loads its runtime from the folder, and the page script leaves both
// to the worker; onnxruntime's files and the models are there, as manifest.json describes them.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { readSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { buildForTest } from "./helpers.ts";

const NODE_ONLY_PACKAGES = ["onnxruntime-node", "sharp", "tar-stream", "@resvg", "commander", "tsx", "fastify"];
/** The core's plain-byte modules the page script uses itself: the PNG parameters chunk of a download. */
const PAGE_SIDE_CORE = [
  "packages/glide-ts/src/png-parameters.ts",
  "packages/glide-ts/src/image/png-text.ts",
  "packages/glide-ts/src/pipelines/picture-parameters.ts",
];
const NODE_SIDE = [
  /^src\/cli\//,
  /^src\/data\//,
  /^src\/train\//,
  /^src\/jobs\//,
  /^src\/server\//,
  /^src\/platform\/node/,
];

test("the built page and worker contain no Node-only module; the folder holds what the manifest lists", async () => {
  const started = performance.now();
  const site = await buildForTest();
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 20, `built in ${seconds.toFixed(1)} s`);

  const outputs = site.metafile.outputs;
  const entry = (name: string) => {
    const key = Object.keys(outputs).find((path) => path.endsWith(`/${name}`));
    assert.ok(key, `the build wrote ${name}`);
    return { key, inputs: Object.keys(outputs[key]!.inputs) };
  };
  const worker = entry("worker.js");
  const app = entry("app.js");
  for (const input of [...worker.inputs, ...app.inputs]) {
    assert.ok(!input.startsWith("node:"), `imports ${input}`);
    for (const pkg of NODE_ONLY_PACKAGES) assert.ok(!input.includes(`node_modules/${pkg}`), `pulls in ${input}`);
    for (const side of NODE_SIDE) assert.ok(!side.test(input), `pulls in the Node-side module ${input}`);
  }
  assert.ok(
    worker.inputs.includes("packages/glide-ts/src/pipelines/edit.ts") &&
      worker.inputs.includes("packages/glide-ts/src/platform/browser.ts"),
  );
  assert.ok(
    worker.inputs.some((i) => i.endsWith("node_modules/onnxruntime-web/dist/ort.min.mjs")),
    "the worker uses the onnxruntime-web build that imports its runtime from env.wasm.wasmPaths",
  );
  assert.ok(
    app.inputs.includes("packages/app/web/ui/main.ts") &&
      app.inputs.includes("packages/app/web/local/local-backend.ts"),
  );
  assert.ok(
    !app.inputs.some(
      (i) => i.includes("onnxruntime") || (i.startsWith("packages/glide-ts/src/") && !PAGE_SIDE_CORE.includes(i)),
    ),
    "the page script runs no model",
  );
  for (const name of ["worker.js", "app.js"]) {
    const code = await readFile(join(site.outDir, name), "utf8");
    assert.doesNotMatch(code, /\brequire\(["']|\bprocess\.env|\bBuffer\.from/, `${name}: no Node globals`);
  }

  const html = await readFile(join(site.outDir, "index.html"), "utf8");
  assert.match(html, /src="app\.js"/);
  assert.match(html, /href="app\.css"/);
  const { manifest } = site;
  assert.equal(manifest.runtimeModule, "ort/ort-wasm-simd-threaded.jsep.mjs");
  // The page's form shows the base model's recommended sampling before any model is loaded.
  const shippedSampling = (await readSafetensors("packages/glide-ts/models/glide-ts-base32.safetensors")).metadata
    .sampling;
  assert.deepEqual(manifest.baseSampling, shippedSampling === undefined ? null : JSON.parse(shippedSampling));
  assert.match(await readFile(join(site.outDir, manifest.runtimeModule), "utf8"), /em-pthread/);
  for (const file of [manifest.base, manifest.upsampler, manifest.runtime]) {
    const bytes = await readFile(join(site.outDir, file.path));
    assert.equal(bytes.length, file.bytes, file.path);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), file.sha256, file.path);
  }
  assert.deepEqual(JSON.parse(await readFile(join(site.outDir, "manifest.json"), "utf8")), manifest);
  const shipped = await readFile("packages/glide-ts/models/glide-ts-base32.safetensors");
  assert.ok(shipped.equals(await readFile(join(site.outDir, manifest.base.path))), "the shipped weights, unchanged");
  const written = site.files.map((f) => f.path).sort();
  for (const path of ["app.css", "app.js", "index.html", "manifest.json", "worker.js", manifest.runtime.path]) {
    assert.ok(written.includes(path), `lists ${path}`);
  }
  assert.ok(
    written.every((p) => !p.startsWith("..")),
    "everything is written inside the folder",
  );
});
