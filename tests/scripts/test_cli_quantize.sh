#!/usr/bin/env bash
# nanoml quantize: help and usage errors, bad input, and hello_world quantized in every mode.
# Calibration data are the model's real inputs: the 64 x values of TFLite Micro's golden inputs
# for hello_world_float, packed into one .npy (shape 64x1) by hand below. The int8 model (float
# I/O) must then follow sin(x) on those inputs within 0.118, the worst error of TFLM's own int8
# hello_world (measured from its goldens in test_quantize).
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
model="$shared/models/tflm/hello_world_float.tflite"
golden="$shared/golden/tflm-reference/hello_world_float"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {
  local code="$1" text="$2"
  shift 3
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
  [[ "$out" == *"$text"* ]] || fail "'$*' output lacks '$text': $out"
}
expect_error() {
  local text="$1"
  shift 2
  local err rc
  err="$("$@" 2>&1 >/dev/null)"
  rc=$?
  [ "$rc" -eq 1 ] || fail "'$*' exited $rc, expected 1: $err"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
  [[ "$err" == "nanoml quantize: "*"$text"* ]] || fail "'$*' error lacks '$text': $err"
}

# .npy format 1.0: magic, version, header length 118 (little-endian), the header dict padded
# with spaces to end in a newline at byte 128, then the raw little-endian float32 values.
npy_f32() { # npy_f32 OUT SHAPE FILES...
  local out="$1" shape="$2"
  shift 2
  { printf '\x93NUMPY\x01\x00\x76\x00'
    printf '%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': $shape, }"
    cat "$@"; } > "$out"
}
npy_f32 "$tmp/calib.npy" "(64, 1)" "$golden"/in_*.bin
npy_f32 "$tmp/pairs.npy" "(32, 2)" "$golden"/in_*.bin
calib="npy:$tmp/calib.npy"

expect 0 "usage: nanoml quantize" -- "$cli" quantize --help
expect 0 "quantize" -- "$cli" --help
expect 2 "no model given" -- "$cli" quantize --out "$tmp/x.tflite"
expect 2 "--out is required" -- "$cli" quantize "$model" --calib "$calib"
expect 2 "needs calibration data" -- "$cli" quantize "$model" --out "$tmp/x.tflite"
expect 2 "uses no calibration data" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --mode dynamic --calib "$calib"
expect 2 "unknown mode 'int2'" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --mode int2
expect 2 "--samples: '0' is out of range (1 to 4294967295)" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib "$calib" --samples 0
expect 2 "--percentile: '30' is out of range (above 50, at most 100)" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib "$calib" --percentile 30
expect 2 "unknown option '--bogus'" -- "$cli" quantize "$model" --bogus

expect_error "is not an image (1 x H x W x C)" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib images:/nonexistent
expect_error "is not an image (1 x H x W x C)" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib fashion-mnist:10
expect_error "unknown calibration source 'foo'" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib foo
expect_error "no such file" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib npy:/nonexistent
expect_error "already quantized" -- "$cli" quantize "$shared/models/tflm/hello_world_int8.tflite" --out "$tmp/x.tflite" --mode float16
expect_error "the data has shape 2, the model input is 1x1" -- "$cli" quantize "$model" --out "$tmp/x.tflite" --calib "npy:$tmp/pairs.npy" --quiet
[ ! -e "$tmp/x.tflite" ] || fail "a failed quantization wrote its output"

# int8, float I/O, verbose: summary, per-layer table, and accuracy on the golden inputs
out="$("$cli" quantize "$model" --out "$tmp/q8.tflite" --calib "$calib" --verbose 2>/dev/null)" \
  || fail "int8 quantization exited $?: $out"
for want in "calibration 64 samples from npy:" "constants   1284 -> 420 bytes" \
            "converted   6 constant tensors" "clip lo" "serving_default_dense_input:0"; do
  [[ "$out" == *"$want"* ]] || fail "summary lacks '$want': $out"
done
worst=0
for f in "$golden"/in_*.bin; do
  x="$(od -An -f "$f" | tr -d ' ')"
  y="$("$cli" run "$tmp/q8.tflite" --input "$f" | sed -n 's/.*values: *\[\(.*\)\]/\1/p')"
  worst="$(awk -v x="$x" -v y="$y" -v w="$worst" 'BEGIN { e = y - sin(x); if (e < 0) e = -e; print (e > w ? e : w) }')"
done
awk -v w="$worst" 'BEGIN { exit !(w <= 0.118) }' || fail "int8 model worst error $worst > 0.118"
echo "int8 hello_world: worst |y - sin x| on the 64 golden inputs = $worst"

# every mode produces a model nanoml inspect verifies and plans
for args in "--mode int8 --io int8 --calibrator mse" "--mode int8 --io uint8 --calibrator percentile" \
            "--mode int4 --io int8" "--mode dynamic" "--mode float16" "--mode int8 --per-tensor --samples 10"; do
  calib_args=()
  [[ "$args" == *"int"[48]* ]] && calib_args=(--calib "$calib")
  # shellcheck disable=SC2086
  out="$("$cli" quantize "$model" --out "$tmp/m.tflite" $args "${calib_args[@]}" --quiet)" \
    || fail "quantize $args exited $?: $out"
  "$cli" inspect "$tmp/m.tflite" > "$tmp/inspect.txt" || fail "inspect after '$args': $(cat "$tmp/inspect.txt")"
  grep -q "^arena " "$tmp/inspect.txt" || fail "no arena after '$args'"
done
[[ "$out" == *"calibration 10 samples"* && "$out" == *"per tensor"* ]] || fail "--samples/--per-tensor: $out"

[ "$failures" -eq 0 ] && echo "all quantize CLI checks passed"
exit $((failures > 0))
