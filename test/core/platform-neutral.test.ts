// The core (src/index.ts) must run on any JavaScript platform: bundled for the browser it needs no
// Node built-in, no Node-only package, and none of the Node-side modules.
import assert from "node:assert/strict";
import { test } from "node:test";
import { build } from "esbuild";

const NODE_ONLY_PACKAGES = ["onnxruntime-node", "sharp", "tar-stream", "@resvg", "commander", "tsx"];
const NODE_SIDE = [
  /^packages\/(app|corpus|eval|parity)\//,
  /^packages\/glide-ts\/src\/(data|train|jobs)\//,
  /^packages\/glide-ts\/src\/platform\/node/,
];

async function bundle(entry: string) {
  return build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

test("the core entry bundles for the browser with no Node built-in or Node-only module", async () => {
  const result = await bundle("packages/glide-ts/src/index.ts");
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes("packages/glide-ts/src/pipelines/text-to-image.ts"), "the bundle holds the pipelines");
  for (const input of inputs) {
    assert.ok(!input.startsWith("node:"), `imports ${input}`);
    for (const pkg of NODE_ONLY_PACKAGES) assert.ok(!input.includes(`node_modules/${pkg}`), `pulls in ${input}`);
    for (const side of NODE_SIDE) assert.ok(!side.test(input), `pulls in the Node-side module ${input}`);
  }
  const code = new TextDecoder().decode(result.outputFiles[0]!.contents);
  assert.doesNotMatch(code, /\bprocess\.|\brequire\(|\bBuffer\./, "no Node globals");
});

test("the check fails on a core module that imports a Node built-in", async () => {
  // The same bundling, on a module that does: esbuild refuses node:fs for the browser platform.
  await assert.rejects(bundle("packages/glide-ts/src/io/checkpoint-file.ts"), /node:fs|Could not resolve/);
});

test("the browser entry bundles for the browser: the core on onnxruntime-web", async () => {
  const result = await bundle("packages/glide-ts/src/browser.ts");
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(
    inputs.some((i) => i.includes("node_modules/onnxruntime-web/")),
    "onnxruntime-web is the engine",
  );
  assert.ok(inputs.includes("packages/glide-ts/src/platform/browser.ts"));
  for (const input of inputs) {
    assert.ok(!input.startsWith("node:"), `imports ${input}`);
    for (const pkg of NODE_ONLY_PACKAGES) assert.ok(!input.includes(`node_modules/${pkg}`), `pulls in ${input}`);
  }
});
