#!/bin/bash
# Packs bench:device and bench:device-oom for a GPU machine that has neither npm nor a network (nor
# perhaps Node): both bundled into one file each, a minimal node_modules (onnxruntime-node's Linux
# x64 binding, onnxruntime-common, a stub for sharp, which these benchmarks never call), this
# machine's node and libonnxruntime compressed with xz, the Vulkan and GLVND loaders NVIDIA's Vulkan
# driver needs (Debian packages), and the shipped models' configs (the benchmark gives them random
# weights when the weight files do not travel). Usage, from the repository root:
#   bench/device-kit/make-kit.sh KIT_DIR      then, there: bash KIT_DIR/run.sh OUT_DIR
set -euo pipefail
KIT=${1:?usage: make-kit.sh KIT_DIR}
mkdir -p "$KIT"
for bench in device device-oom; do
  node_modules/.bin/esbuild "bench/$bench.mts" --bundle --platform=node --format=esm --target=node20 \
    --conditions=glide-ts-source --external:onnxruntime-node --external:sharp --log-level=warning \
    --outfile="$KIT/bench-$bench.mjs" \
    --banner:js="import { createRequire as kitRequire } from 'node:module'; const require = kitRequire(import.meta.url);"
done
BINDING=bin/napi-v6/linux/x64
rm -rf "$KIT/node_modules" && mkdir -p "$KIT/node_modules/onnxruntime-node/$BINDING" "$KIT/node_modules/sharp"
cp -r node_modules/onnxruntime-node/{package.json,dist,lib} "$KIT/node_modules/onnxruntime-node/"
cp "node_modules/onnxruntime-node/$BINDING/onnxruntime_binding.node" "$KIT/node_modules/onnxruntime-node/$BINDING/"
cp -r node_modules/onnxruntime-common "$KIT/node_modules/"
echo '{"name":"sharp","version":"0.0.0-kit-stub","main":"index.js"}' > "$KIT/node_modules/sharp/package.json"
echo 'module.exports = () => { throw new Error("sharp is not in the device kit"); };' > "$KIT/node_modules/sharp/index.js"
[ -f "$KIT/node.xz" ] || xz -T0 -9 -c "$(command -v node)" > "$KIT/node.xz"
[ -f "$KIT/ort.xz" ] || xz -T0 -9 -c "node_modules/onnxruntime-node/$BINDING/libonnxruntime.so.1" > "$KIT/ort.xz"
mkdir -p "$KIT/gl"
lists=$(mktemp -d) && mkdir -p "$lists/partial"
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" update >/dev/null
(cd "$KIT/gl" && apt-get "${apt[@]}" download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libgles2 libopengl0 \
  libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 2>/dev/null)
node --conditions=glide-ts-source --import tsx -e '
  const { loadModel } = await import("./packages/glide-ts/src/pipelines/load-model.ts");
  await import("./packages/glide-ts/src/platform/node.ts");
  const config = async (name) => (await loadModel({ checkpoint: `packages/glide-ts/models/${name}.safetensors` })).model.config;
  const configs = { base: await config("glide-ts-base32"), upsampler: await config("glide-ts-upsample128") };
  (await import("node:fs")).writeFileSync(process.argv[1], JSON.stringify(configs));
' "$KIT/shipped-configs.json"
cp bench/device-kit/run.sh "$KIT/run.sh"
du -sh "$KIT"
