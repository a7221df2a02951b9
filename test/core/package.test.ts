// An application installed from the packed tarball imports `glide-ts` and generates with plain
// node (no tsx, no sources): the build, the exports map and the bin are what a user gets.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";

const APP = `
import { loadModel, textToImage, writePng, GlideError } from "glide-ts";
const [checkpoint, config, out] = process.argv.slice(2);
const { model } = await loadModel({ checkpoint, config });
const result = await textToImage({ prompt: "a corgi", model, steps: 3, seed: 1 });
await writePng(out, result.images[0]);
console.log(JSON.stringify({ shape: result.shape, seed: result.settings.seed, userError: new GlideError("x") instanceof Error }));
`;

test("npm pack → npm install in another folder → plain node imports glide-ts and generates", {
  timeout: 300_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "glide-pack-"));
  // ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's optional CUDA download is skipped, as in .ci/run.
  const env = { ...process.env, NODE_OPTIONS: "", ONNXRUNTIME_NODE_INSTALL: "skip" };
  const run = (command: string, args: string[], cwd: string) =>
    execFileSync(command, args, { cwd, encoding: "utf8", env, stdio: "pipe" });
  run("npm", ["pack", "--pack-destination", dir], process.cwd());
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");

  const app = join(dir, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(join(app, "app.mjs"), APP);
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, tarball)], app);

  const manifest = fixtureManifest<{ cases: Record<string, { config: object; checkpoint: string }> }>();
  const text2im = manifest.cases.text2im!;
  copyFileSync(join(FIXTURES, text2im.checkpoint), join(app, "model.pt"));
  writeFileSync(join(app, "config.json"), JSON.stringify(text2im.config));
  const out = JSON.parse(run(process.execPath, ["app.mjs", "model.pt", "config.json", "out.png"], app));
  assert.deepEqual(out, { shape: [1, 3, 16, 16], seed: 1, userError: true });
  return sharp(join(app, "out.png"))
    .metadata()
    .then((meta) => {
      assert.equal(meta.width, 16);
      assert.equal(meta.height, 16);
      assert.match(run(join(app, "node_modules", ".bin", "glide"), ["--version"], app), /^\d+\.\d+\.\d+/);
    });
});
