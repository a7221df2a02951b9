#!/bin/bash
# Runs on the GPU machine: bash KIT_DIR/run.sh OUT_DIR. Unpacks the kit, then bench:device's training
# step, bench:device-oom and bench:device's released shapes (the whole run at 100+27 steps), each
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
# The released shapes' figures are in the README already: the training step and a real out-of-memory
# first, so a short lease still measures them.
want() { [[ " ${STAGES:-train oom released} " == *" $1 "* ]]; }  # STAGES="train oom" runs only those
want train && stage "training step" && timeout 330 $NODE bench-device.mjs --sets none --train tiny:64,tiny:256 --timeout 150 $configs
want oom && stage "out of memory" && timeout 200 $NODE bench-device-oom.mjs --device webgpu --start 64 --limit 16384
want released && stage "released shapes" && timeout 150 $NODE bench-device.mjs --sets released --steps 1 --full 100+27 --timeout 70 $configs
kill $sampler
stage done
