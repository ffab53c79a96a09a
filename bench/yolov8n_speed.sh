#!/usr/bin/env bash
# YOLOv8n int8 speed on the host: wall time of one inference (best of 3, as printed by nanoml
# detect around the runtime call) and instructions of one inference counted by callgrind
# (load + init measured separately and subtracted, as in host_callgrind.sh), on the real input
# tensor of images/3.jpg. Prints markdown table rows.
# usage: bench/yolov8n_speed.sh [BUILD_DIR]      (default: build-bench, Release)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build-bench}"
shared="${NML_SHARED_DIR:-$here/../shared}"
model="$shared/models/yolov8n/yolov8n_full_integer_quant.tflite"
image="$shared/images/3.jpg"
command -v valgrind >/dev/null || { echo "yolov8n_speed: valgrind is not installed" >&2; exit 1; }
[ -f "$build/CMakeCache.txt" ] ||
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNML_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target nanoml bench_infer -j2 >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# the int8 input tensor as raw bytes (the .npy payload is the last 640*640*3 bytes)
"$build/nanoml" detect "$model" --image "$image" --save-input "$tmp/in.npy" >/dev/null
tail -c $((640 * 640 * 3)) "$tmp/in.npy" >"$tmp/in.bin"

best=""
for _ in 1 2 3; do
  t="$("$build/nanoml" detect "$model" --image "$image" | awk '$1 == "inference" { print $2 }')"
  best="$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')"
done

instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$@" >"$tmp/out" 2>"$tmp/err"
  awk '/^(summary|totals):/ { print $2; exit }' "$tmp/cg.out"
}
base="$(instructions "$build/bench_infer" "$model" 0 "$tmp/in.bin")"
one="$(instructions "$build/bench_infer" "$model" 1 "$tmp/in.bin")"
arena="$(awk '/^arena/ { print $2 }' "$tmp/out")"
echo "| model | seconds per inference (best of 3) | instructions per inference | arena bytes |"
echo "| --- | ---: | ---: | ---: |"
echo "| yolov8n_full_integer_quant | $best | $((one - base)) | $arena |"
