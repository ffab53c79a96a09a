#!/usr/bin/env bash
# Packed weights on LeNet-5 (the numbers in bench/README.md and docs/packed-weights.md):
#   1. trains LeNet-5 on Fashion-MNIST (3 epochs, seed 1) and quantizes it to int8 with int8
#      I/O, calibrated on 500 training images written as .npy files;
#   2. bench/pack_compress makes pruned (50 %, 80 %) and clustered (16, 4 values per layer)
#      variants of the int8 weights, packs each, and prints per tensor the bytes of every
#      position coding;
#   3. nanoml compare: file / gzip bytes, sparsity, accuracy on the 10000 test images, plot;
#   4. nanoml deploy --target rv32-qemu: RV32IMC instructions per inference (all-zero input)
#      and per layer for the dense and packed models.
# usage: bench/pack_lenet5.sh [BUILD_DIR] [WORK_DIR]   (WORK_DIR is kept; default: a temp dir)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
cli="$build/nanoml"
tool="$build/pack_compress"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
export NML_PROGRESS=0

"$cli" train lenet5 --epochs 3 --seed 1 --out "$work/lenet5_f32.tflite" | tail -1
"$tool" npy /usr/share/datasets/fashion-mnist "$work/calib" 500
"$cli" quantize "$work/lenet5_f32.tflite" --out "$work/int8.tflite" --calib "npy:$work/calib" \
  --io int8 >/dev/null
echo "## position codings per tensor"
"$tool" variants "$work/int8.tflite" "$work/var" 2>"$work/variants.log"
cat "$work/variants.log"

names=(int8 prune50 prune80 cluster16 cluster4 prune50_cluster16 prune80_cluster16 prune80_cluster4)
models=() labels=()
for n in "${names[@]}"; do
  models+=("$work/var/$n.tflite" "$work/var/${n}_packed.tflite")
  labels+=("$n" "$n-packed")
done
echo "## sizes and accuracy"
"$cli" compare "${models[@]}" "$work/lenet5_f32.tflite" --labels "${labels[@]}" float32 \
  --csv "$work/compare.csv" --plot "$work/compare.png" --log-x

echo "## RV32IMC (QEMU), instructions per inference and per MAC of the weight layers"
echo "| model | instructions | conv1 | conv2 | conv3 | fc1 | fc2 | .rodata B |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for n in int8 int8_packed prune50 prune50_packed prune80_packed cluster16_packed cluster4_packed \
         prune50_cluster16_packed prune80_cluster16_packed prune80_cluster4_packed; do
  log="$work/$n.deploy.log"
  "$cli" deploy "$work/var/$n.tflite" --target rv32-qemu >"$log" 2>&1 || { echo "| $n | failed |"; continue; }
  instr="$(sed -n 's/^instructions per inference: \([0-9]*\).*/\1/p' "$log")"
  per_mac="$(awk '/CONV_2D|FULLY_CONNECTED/ {printf " %s |", $5}' "$log")"
  rodata="$(awk '/\.rodata/ {print $2}' "$log")"
  echo "| $n | $instr |$per_mac $rodata |"
done
echo "work folder: $work"
