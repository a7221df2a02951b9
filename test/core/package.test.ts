// What users install: the packed packages, installed into empty folders offline (from the npm cache
// the repository's own install filled) with no CUDA download, run with plain node from their builds
// (no tsx, no sources). The library alone brings no server, corpus or command-line package; the app
// adds the `glide` command on top of it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { build } from "esbuild";
import sharp from "sharp";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";
import { installOffline } from "./offline-install.ts";

const GENERATE = `
import { loadModel, textToImage, writePng, GlideError } from "glide-ts";
const [checkpoint, config, out] = process.argv.slice(2);
const { model } = await loadModel({ checkpoint, config });
const result = await textToImage({ prompt: "a corgi", model, steps: 3, seed: 1 });
await writePng(out, result.images[0]);
console.log(JSON.stringify({ shape: result.shape, seed: result.settings.seed, userError: new GlideError("x") instanceof Error }));
`;

/** Packages a library user must not get: the server's, the corpus builder's, the command line's. */
const NOT_IN_A_LIBRARY_INSTALL = [
  "fastify",
  "bullmq",
  "ioredis",
  "commander",
  "openmoji",
  "@iconify-json",
  "@resvg",
  "tsx",
  "@glide-ts",
];

// ONNXRUNTIME_NODE_INSTALL=skip (what --onnxruntime-node-install=skip sets): onnxruntime-node's
// postinstall does not download its CUDA provider, as in .ci/run.
const env = { ...process.env, NODE_OPTIONS: "", ONNXRUNTIME_NODE_INSTALL: "skip" };
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: "utf8", env, stdio: "pipe" });

function pack(workspace: string, dir: string): string {
  const before = new Set(readdirSync(dir));
  run("npm", ["pack", "--workspace", workspace, "--pack-destination", dir], process.cwd());
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz") && !before.has(f));
  assert.ok(tarball, `npm pack wrote a tarball for ${workspace}`);
  return join(dir, tarball);
}

function emptyProject(dir: string, name: string): string {
  const project = join(dir, name);
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  return project;
}

/** Every package folder under node_modules, scoped ones as "@scope/name". */
function installedPackages(project: string): string[] {
  const modules = join(project, "node_modules");
  return readdirSync(modules).flatMap((name) => {
    if (name.startsWith(".")) return [];
    if (!name.startsWith("@")) return [name];
    return readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`);
  });
}

test("the library, packed and installed offline alone: plain node generates, nothing of the server or corpus comes with it, the browser entry bundles", {
  timeout: 600_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "glide-pack-"));
  const library = pack("packages/glide-ts", dir);
  const project = emptyProject(dir, "uses-library");
  // onnxruntime-web: the browser build's engine, an optional peer a page's project installs itself.
  installOffline(project, { "packages/glide-ts": library }, ["onnxruntime-web"], env);

  const installed = installedPackages(project);
  assert.ok(installed.includes("glide-ts") && installed.includes("onnxruntime-node"), installed.join(" "));
  for (const unwanted of NOT_IN_A_LIBRARY_INSTALL) {
    assert.deepEqual(
      installed.filter((name) => name === unwanted || name.startsWith(`${unwanted}/`)),
      [],
      `a library install brought ${unwanted}`,
    );
  }
  assert.ok(
    !existsSync(join(project, "node_modules", "glide-ts", "src")),
    "the package ships its build, not its sources",
  );
  assert.ok(existsSync(join(project, "node_modules", "glide-ts", "models", "glide-ts-base32.safetensors")));

  const manifest = fixtureManifest<{ cases: Record<string, { config: object; checkpoint: string }> }>();
  const text2im = manifest.cases.text2im!;
  copyFileSync(join(FIXTURES, text2im.checkpoint), join(project, "model.pt"));
  writeFileSync(join(project, "config.json"), JSON.stringify(text2im.config));
  writeFileSync(join(project, "generate.mjs"), GENERATE);
  const out = JSON.parse(run(process.execPath, ["generate.mjs", "model.pt", "config.json", "out.png"], project));
  assert.deepEqual(out, { shape: [1, 3, 16, 16], seed: 1, userError: true });
  const meta = await sharp(join(project, "out.png")).metadata();
  assert.deepEqual([meta.width, meta.height], [16, 16]);

  // A bundler for the browser picks the installed package's browser build: no Node module in it.
  writeFileSync(join(project, "page.mjs"), 'import { textToImage } from "glide-ts";\nconsole.log(textToImage);\n');
  const bundled = await build({
    entryPoints: [join(project, "page.mjs")],
    absWorkingDir: project,
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(bundled.metafile.inputs);
  assert.ok(inputs.includes("node_modules/glide-ts/dist/browser.js"), inputs.slice(0, 5).join(" "));
  assert.deepEqual(
    inputs.filter((i) => i.startsWith("node:") || /node_modules\/(onnxruntime-node|sharp)\//.test(i)),
    [],
  );
});

test("the app, packed with the library and the evaluations and installed offline: the glide command runs from its build", {
  timeout: 600_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "glide-pack-app-"));
  // The app's build reads the others' type declarations (the corpus's too): pack them in order.
  const [library, evaluations, , app] = ["packages/glide-ts", "packages/eval", "packages/corpus", "packages/app"].map(
    (w) => pack(w, dir),
  );
  const project = emptyProject(dir, "uses-app");
  installOffline(
    project,
    { "packages/glide-ts": library!, "packages/eval": evaluations!, "packages/app": app! },
    [],
    env,
  );
  const installed = installedPackages(project);
  assert.ok(installed.includes("fastify") && installed.includes("@glide-ts/eval"), installed.join(" "));
  assert.ok(!installed.includes("openmoji") && !installed.includes("@glide-ts/corpus"), "the corpus is optional");

  const glide = join(project, "node_modules", ".bin", "glide");
  assert.match(run(glide, ["--version"], project), /^\d+\.\d+\.\d+/);
  // The shipped models, found in the installed library, draw with no model named.
  run(glide, ["generate", "red heart", "--steps", "2", "--upsample-steps", "2", "--out", "heart.png"], project);
  assert.ok(existsSync(join(project, "heart.png")));
  // Without the optional corpus package, `glide data build` says what to install.
  assert.throws(
    () => run(glide, ["data", "build", "--out", join(project, "corpus")], project),
    (error: { stderr?: string }) => /@glide-ts\/corpus/.test(error.stderr ?? ""),
  );
});
