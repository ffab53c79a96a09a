#!/usr/bin/env bash
# Host instructions per inference for each shared TFLM model, counted by valgrind's callgrind
# (deterministic, unlike time). Each model runs twice under callgrind: load + init only
# (N = 0) and load + init + N inferences; the difference divided by N is the cost of one
# inference. Prints a markdown table on stdout.
# usage: bench/host_callgrind.sh [BUILD_DIR] [N]    (default: build, 10)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
runs="${2:-10}"
shared="${NML_SHARED_DIR:-$here/../shared}"
command -v valgrind >/dev/null || { echo "host_callgrind: valgrind is not installed" >&2; exit 1; }
[ -f "$build/CMakeCache.txt" ] || cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_infer -j2 >/dev/null
bench="$build/bench_infer"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Total instructions (Ir) of one callgrind run.
instructions() {
  local out="$tmp/callgrind.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$tmp/stdout" 2>"$tmp/stderr" \
    || return $?
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

echo "| model | instructions per inference | arena bytes |"
echo "| --- | ---: | ---: |"
for model in hello_world_float hello_world_int8 micro_speech_quantized person_detect \
             simple_add_model; do
  file="$shared/models/tflm/$model.tflite"
  golden="$shared/golden/tflm-reference/$model"
  inputs=()
  if [ -f "$golden/in_000.bin" ]; then inputs=("$golden/in_000.bin")
  elif [ -f "$golden/in0_000.bin" ]; then inputs=("$golden/in0_000.bin" "$golden/in1_000.bin"); fi
  echo "host_callgrind: $model" >&2
  if ! base="$(instructions "$bench" "$file" 0 "${inputs[@]}")"; then
    echo "| $model | not measured: $(grep -m1 '^bench_infer:' "$tmp/stderr" | sed 's/^bench_infer: //') | |"
    continue
  fi
  total="$(instructions "$bench" "$file" "$runs" "${inputs[@]}")"
  arena="$(awk '/^arena/ { print $2 }' "$tmp/stdout")"
  echo "| $model | $(( (total - base) / runs )) | $arena |"
done
