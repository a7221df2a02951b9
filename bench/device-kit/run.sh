#!/bin/bash
# Runs on the GPU machine: bash KIT_DIR/run.sh OUT_DIR. Unpacks the kit, then bench:device (released
# and shipped shapes, the whole run at 100+27 steps, a training step) and bench:device-oom, each
# stage time-boxed; the log and nvidia-smi samples go to OUT_DIR as they are written.
KIT=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${1:?usage: run.sh OUT_DIR}
mkdir -p "$OUT_DIR"
exec > >(tee -a "$OUT_DIR/log.txt") 2>&1
started=$(date +%s)
stage() { echo "[$(($(date +%s) - started)) s] $*"; }
stage start
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
for deb in "$KIT"/gl/*.deb; do dpkg -x "$deb" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $icd ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
NODE=/tmp/kit-node
# Never a bare `wait`: it would also wait for the tee above, for ever.
xz -T4 -dc "$KIT/node.xz" > $NODE & unpacking=$!
xz -T4 -dc "$KIT/ort.xz" > "$KIT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
wait $unpacking
chmod +x $NODE
stage "unpacked, node $($NODE --version)"
(while true; do nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader >> "$OUT_DIR/smi.csv"; sleep 5; done) &
sampler=$!
cd "$KIT"
configs="--shipped-configs shipped-configs.json"
stage "released shapes"; timeout 150 $NODE bench-device.mjs --sets released --steps 1 --full 100+27 --timeout 70 $configs
stage "training step"; timeout 120 $NODE bench-device.mjs --sets none --train tiny:16,tiny:128 --timeout 55 $configs
stage "out of memory"; timeout 120 $NODE bench-device-oom.mjs --device webgpu --start 16 --limit 16384
stage "shipped shapes"; timeout 60 $NODE bench-device.mjs --sets shipped --steps 4 --full 100+27 --timeout 28 $configs
kill $sampler
stage done
