#!/usr/bin/env bash
# Every number, size and shape a nanoml command takes goes through the strict parser
# (nanoml/parse.h, via tools/nanoml/cli_numbers.c): a malformed, out-of-range or overflowing
# value is a usage error -- exit code 2, nothing on stdout, one line on stderr that names the
# command, the option and the value -- before any work starts. Valid values of the same
# options are accepted.
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
model="$shared/models/tflm/hello_world_float.tflite"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
checked=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# bad CMD OPTION VALUE [extra args...]: the usage error for OPTION VALUE
bad() {
  local cmd="$1" opt="$2" value="$3"
  shift 3
  local args=("$@")
  "$cli" "$cmd" "${args[@]}" "$opt" "$value" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines="$(wc -l <"$tmp/err")"
  checked=$((checked + 1))
  [ "$rc" -eq 2 ] || fail "$cmd $opt '$value': exit $rc, expected 2 ($(cat "$tmp/err"))"
  [ "$lines" -eq 1 ] || fail "$cmd $opt '$value': $lines lines on stderr: $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && fail "$cmd $opt '$value': printed on stdout: $(cat "$tmp/out")"
  local want="nanoml $cmd: $opt: "
  [[ "$(cat "$tmp/err")" == "$want"* ]] || fail "$cmd $opt '$value': message does not start with '$want': $(cat "$tmp/err")"
  [[ "$(cat "$tmp/err")" == *"'$value'"* ]] || fail "$cmd $opt '$value': message does not quote the value: $(cat "$tmp/err")"
}

# train (no training data is read before the options are checked)
bad train --epochs 1e3 lenet5
bad train --epochs 99999999999999999999999 lenet5
bad train --epochs 0 lenet5
bad train --batch -1 lenet5
bad train --batch 16x lenet5
bad train --limit 0 lenet5
bad train --seed 1.5 lenet5
bad train --seed -1 lenet5
bad train --shift 17 lenet5
bad train --lr abc lenet5
bad train --lr 0 lenet5
bad train --lr 0x1p-3 lenet5
bad train --lr inf lenet5
bad train --momentum 1 lenet5
bad train --warmup -1 lenet5
bad train --val-split 0.995 lenet5
bad train --val-split " 0.1" lenet5
# eval
bad eval --limit 10x "$model"
bad eval --limit 2147483648 "$model"
bad eval --arena-max 1.5M "$model"
bad eval --arena-max 512 "$model"
bad eval --arena-max 99999999999999999999K "$model"
# quantize
bad quantize --samples 10x "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --samples 0 "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --samples 4294967296 "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --min-elements -3 "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --min-elements 1K "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --percentile 50 "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --percentile nan "$model" --out "$tmp/q.tflite" --mode dynamic
bad quantize --percentile 100.5 "$model" --out "$tmp/q.tflite" --mode dynamic
# run
bad run --arena 3Q "$model" --input "$tmp/none.bin"
bad run --arena 4G "$model" --input "$tmp/none.bin"
bad run --arena -5 "$model" --input "$tmp/none.bin"
# deploy (checked before any export, compile or QEMU run)
bad deploy --jobs 0 "$model" --target rv32-qemu
bad deploy --jobs 2.0 "$model" --target rv32-qemu
bad deploy --timeout 1.5 "$model" --target rv32-qemu
bad deploy --timeout 86401 "$model" --target rv32-qemu
# import (checked before the ONNX file is read)
bad import --input-shape 1x3x0x4 "$tmp/none.onnx" --out "$tmp/x.tflite"
bad import --input-shape 1x3xx4 "$tmp/none.onnx" --out "$tmp/x.tflite"
bad import --input-shape 1x1x1x1x1x1x1 "$tmp/none.onnx" --out "$tmp/x.tflite"
bad import --input-shape 1x3x65536x65536 "$tmp/none.onnx" --out "$tmp/x.tflite"
bad import --input-shape -1x3x4x4 "$tmp/none.onnx" --out "$tmp/x.tflite"
# detect, eval-detect, preprocess (checked before the model or any image is read)
bad detect --score 1.5 "$model" --image "$tmp/none.jpg"
bad detect --score nan "$model" --image "$tmp/none.jpg"
bad detect --iou -0.1 "$model" --image "$tmp/none.jpg"
bad detect --iou 0x1p-1 "$model" --image "$tmp/none.jpg"
bad detect --max-det 1e3 "$model" --image "$tmp/none.jpg"
bad detect --max-det 100000001 "$model" --image "$tmp/none.jpg"
bad detect --size 640 "$model" --image "$tmp/none.jpg"
bad detect --size 640x "$model" --image "$tmp/none.jpg"
bad detect --size 640x480x3 "$model" --image "$tmp/none.jpg"
bad detect --size 16385x16 "$model" --image "$tmp/none.jpg"
bad eval-detect --conf 2 "$model" --dataset "$tmp"
bad eval-detect --iou " 0.5" "$model" --dataset "$tmp"
bad eval-detect --max-det -1 "$model" --dataset "$tmp"
bad eval-detect --limit 10x "$model" --dataset "$tmp"
bad eval-detect --skip 99999999999999999999 "$model" --dataset "$tmp"
bad eval-detect --size 0x480 "$model" --dataset "$tmp"
bad preprocess --skip -2 "$model" --dataset "$tmp" --out "$tmp/p"
bad preprocess --limit 4.0 "$model" --dataset "$tmp" --out "$tmp/p"
bad preprocess --size 128x-86 "$model" --dataset "$tmp" --out "$tmp/p"
# compare, pack (checked before any model is read)
bad compare --limit 0 "$model" "$model"
bad compare --limit 12abc "$model" "$model"
bad compare --arena-max 1.5M "$model" "$model"
bad compare --arena-max 100 "$model" "$model"
bad pack --min-elements -1 "$model" --out "$tmp/p.tflite"
bad pack --min-elements 4294967296 "$model" --out "$tmp/p.tflite"
bad pack --min-elements 2e3 "$model" --out "$tmp/p.tflite"

# export --target names a memory size: same rules (one line, exit 2)
"$cli" export "$model" --target xheep-064k --out "$tmp" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "target 'xheep-064k'" "$tmp/err" ||
  fail "export --target xheep-064k: exit $rc: $(cat "$tmp/err")"

# a missing value is a usage error too
"$cli" train lenet5 --epochs >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "option --epochs needs a value" "$tmp/err" ||
  fail "train --epochs without a value: exit $rc: $(cat "$tmp/err")"

# valid values pass (train --summary stops before reading data)
if ! "$cli" train lenet5 --epochs 3 --batch 32 --lr 1e-3 --momentum 0.5 --warmup 0.5 \
    --val-split 0.1 --seed 42 --limit 100 --shift 2 --summary >"$tmp/out" 2>"$tmp/err"; then
  fail "train with valid numbers: $(cat "$tmp/err")"
fi
"$cli" quantize "$model" --out "$tmp/q.tflite" --mode dynamic --min-elements 16 --quiet \
  >"$tmp/out" 2>"$tmp/err" || fail "quantize with valid numbers: $(cat "$tmp/err")"
"$cli" pack "$model" --out "$tmp/p.tflite" --min-elements 16 --quiet \
  >"$tmp/out" 2>"$tmp/err" || fail "pack with valid numbers: $(cat "$tmp/err")"
"$cli" compare "$model" --dataset none --limit 10 --arena-max 1M \
  >"$tmp/out" 2>"$tmp/err" || fail "compare with valid numbers: $(cat "$tmp/err")"

echo "$checked bad values checked"
[ "$failures" -eq 0 ] || { echo "$failures failures"; exit 1; }
echo "ok"
