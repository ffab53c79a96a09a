#!/usr/bin/env bash
# The CLI under valgrind memcheck on every shared model: `nanoml inspect` (text and JSON) on all
# of them, `nanoml run` on the TFLM models with their golden inputs (yolov8n's 4.4 G MACs are
# too slow under memcheck; inspect covers its loading and planning), and the error paths
# (truncated model, missing file, wrong input size, too small an arena), where leaks hide.
# Then the newer readers: `nanoml import` of FastestDet.onnx, `nanoml quantize --mode dynamic`,
# an error path of each reader (truncated ONNX, truncated and corrupt IDX .gz through
# `nanoml eval --data`), and the detection commands (detect, eval-detect, preprocess) on the
# 64x64 FastestDet import, which read images and YOLO labels, with their error paths; the
# image and label readers also through their fuzz replay programs on the regression inputs.
# Every command must finish with no memcheck error and no definite or indirect leak.
# Skipped (77) in sanitizer builds: valgrind cannot run AddressSanitizer binaries.
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
if [ "${NML_SANITIZE:-OFF}" = ON ] || ldd "$cli" 2>/dev/null | grep -q libasan; then
  echo "skip: sanitizer build (valgrind needs the plain build)"
  exit 77
fi
command -v valgrind >/dev/null || { echo "FAIL: valgrind is missing (scripts/setup.sh)"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
runs=0

# memcheck EXPECTED_EXIT -- command...: the command's own exit code must be EXPECTED_EXIT and
# memcheck must report nothing (its error exit code 99 would say otherwise).
memcheck() {
  local want="$1"
  shift 2
  local log="$tmp/vg.log" rc
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --track-origins=yes --log-file="$log" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
  rc=$?
  runs=$((runs + 1))
  if [ $rc -eq 99 ] || grep -qE "Invalid|uninitialised|definitely lost: [1-9]|indirectly lost: [1-9]" "$log"; then
    echo "FAIL: memcheck errors in: $*"
    grep -E "^==[0-9]+== (Invalid|Conditional|Use of|Syscall| +at | +by |.*lost)" "$log" | head -30
    failures=$((failures + 1))
  elif [ $rc -ne "$want" ]; then
    echo "FAIL: '$*' exited $rc, expected $want: $(cat "$tmp/err.txt")"
    failures=$((failures + 1))
  fi
}

for model in "$shared"/models/tflm/*.tflite "$shared"/models/yolov8n/*.tflite; do
  memcheck 0 -- "$cli" inspect "$model"
  memcheck 0 -- "$cli" inspect --json "$model"
done

for model in "$shared"/models/tflm/*.tflite; do
  name="$(basename "$model" .tflite)"
  golden="$shared/golden/tflm-reference/$name"
  [ -d "$golden" ] || continue
  inputs=()
  if compgen -G "$golden/in0_*" >/dev/null; then
    suffix="$(basename "$(ls "$golden"/in0_* | head -1)")"
    suffix="${suffix#in0_}"
    for f in "$golden"/in[0-9]_"$suffix"; do inputs+=(--input "$f"); done
  else
    inputs=(--input "$(ls "$golden"/in_* | head -1)")
  fi
  memcheck 0 -- "$cli" run "$model" "${inputs[@]}" --output "$tmp/out.npy"
done

small="$shared/models/tflm/hello_world_int8.tflite"
input="$(ls "$shared"/golden/tflm-reference/hello_world_int8/in_* | head -1)"
memcheck 0 -- "$cli" run "$small" --input "$input" --arena 4K --output "$tmp/out.bin"
head -c 1000 "$small" > "$tmp/truncated.tflite"
memcheck 1 -- "$cli" inspect "$tmp/truncated.tflite"
memcheck 1 -- "$cli" run "$tmp/truncated.tflite" --input "$input"
memcheck 1 -- "$cli" inspect "$tmp/missing.tflite"
memcheck 1 -- "$cli" inspect "$tmp"
printf 'xyz' > "$tmp/short.bin"
memcheck 1 -- "$cli" run "$small" --input "$tmp/short.bin"
printf '\x93NUMPY\x01\x00\x10\x00{"descr": 1}   \n' > "$tmp/bad.npy"
memcheck 1 -- "$cli" run "$small" --input "$tmp/bad.npy"
memcheck 1 -- "$cli" run "$small" --input "$input" --arena 64
memcheck 2 -- "$cli" run "$small" --input "$input" --arena 12X

# ONNX import and post-training quantization
fastestdet="$shared/models/fastestdet/FastestDet.onnx"
memcheck 0 -- "$cli" import "$fastestdet" --out "$tmp/fastestdet.tflite"
memcheck 0 -- "$cli" import "$fastestdet" --out "$tmp/fastestdet.tflite" --input-shape 1x3x64x64 --quiet
head -c 300000 "$fastestdet" > "$tmp/cut.onnx"
memcheck 1 -- "$cli" import "$tmp/cut.onnx" --out "$tmp/cut.tflite"
memcheck 2 -- "$cli" import "$fastestdet" --out "$tmp/x.tflite" --input-shape 1x3x0x64
memcheck 0 -- "$cli" quantize "$shared/models/tflm/hello_world_float.tflite" --mode dynamic \
  --out "$tmp/dynamic.tflite"
memcheck 1 -- "$cli" quantize "$tmp/truncated.tflite" --mode dynamic --out "$tmp/q.tflite"

# detection commands on the 64x64 import: image loading, resizing, the YOLO label reader,
# drawing and PNG output, and their error paths
photo="$shared/images/3.jpg"
memcheck 0 -- "$cli" detect "$tmp/fastestdet.tflite" --image "$photo" --out "$tmp/det.png"
memcheck 0 -- "$cli" eval-detect "$tmp/fastestdet.tflite" --dataset "$shared/datasets/coco128-val" --limit 2
memcheck 0 -- "$cli" preprocess "$tmp/fastestdet.tflite" --out "$tmp/pre" "$photo" --quiet
head -c 20000 "$photo" > "$tmp/truncated.jpg"
memcheck 1 -- "$cli" detect "$tmp/fastestdet.tflite" --image "$tmp/truncated.jpg"
mkdir -p "$tmp/ds/images" "$tmp/ds/labels"
cp "$photo" "$tmp/ds/images/a.jpg"
printf '0 0.5 1.5 0.1 0.1\n' > "$tmp/ds/labels/a.txt"
memcheck 1 -- "$cli" eval-detect "$tmp/fastestdet.tflite" --dataset "$tmp/ds"
memcheck 2 -- "$cli" detect "$tmp/fastestdet.tflite" --image "$photo" --size 64x

# IDX through nanoml eval --data: a truncated .gz, and one with a flipped byte in its stream
fm="${NML_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
if [ -f "$fm/t10k-labels-idx1-ubyte.gz" ]; then
  mkdir -p "$tmp/idx"
  head -c 3000 "$fm/t10k-labels-idx1-ubyte.gz" > "$tmp/idx/t10k-labels-idx1-ubyte.gz"
  cp "$tmp/idx/t10k-labels-idx1-ubyte.gz" "$tmp/idx/t10k-images-idx3-ubyte.gz"
  memcheck 1 -- "$cli" eval "$small" --data "$tmp/idx"
  cp "$fm/t10k-labels-idx1-ubyte.gz" "$tmp/idx/t10k-images-idx3-ubyte.gz"
  printf '\xff\xff\xff\xff' | dd of="$tmp/idx/t10k-images-idx3-ubyte.gz" bs=1 seek=2000 conv=notrunc 2>/dev/null
  memcheck 1 -- "$cli" eval "$small" --data "$tmp/idx"
else
  echo "note: $fm missing, IDX error paths not checked"
fi

# images and YOLO labels through the fuzz replay programs too, on inputs the commands above do
# not reach (exit 0: errors are expected, crashes, leaks and memcheck errors are not)
replay="${NML_BINARY_DIR:-}/fuzz"
if [ -x "$replay/replay_image" ] && [ -x "$replay/replay_yolo_labels" ]; then
  mkdir -p "$tmp/img" "$tmp/lab"
  cp "${NML_SOURCE_DIR:?}"/fuzz/regressions/image/* "$tmp/img"/
  head -c 20000 "$shared/images/0.jpg" > "$tmp/img/truncated.jpg"
  printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x40\x00\x00\x00\x40\x00\x08\x02' > "$tmp/img/cut.png"
  printf 'BM not a bitmap' > "$tmp/img/bad.bmp"
  cp "$shared/images/3.jpg" "$tmp/img/good.jpg"
  memcheck 0 -- "$replay/replay_image" "$tmp/img"
  printf '\x51 0 0.5 0.5 0.2 0.2\n12 0.5 1.5 0.1 0.1\n' > "$tmp/lab/out-of-range"
  printf '\x51 0 0.5 0.5 0.2\n' > "$tmp/lab/four-fields"
  printf '\x00 0 0.5 0.5 0.2 0.2\n\n 7 0.1 0.1 0.1 0.1 \n' > "$tmp/lab/good"
  memcheck 0 -- "$replay/replay_yolo_labels" "$tmp/lab"
else
  echo "FAIL: fuzz replay programs missing in $replay"
  failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures of $runs memcheck runs failed"; exit 1; }
echo "ok: $runs commands under memcheck, no errors, no definite or indirect leaks"
