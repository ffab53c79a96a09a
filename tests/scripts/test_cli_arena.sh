#!/usr/bin/env bash
# nanoml run --arena BYTES: the inference runs inside an arena of the given size between guard
# bytes (as firmware would), reproduces TFLM's golden output there, reports the guards intact;
# too small an arena is refused with the exact need, and malformed sizes are usage errors from
# the strict parser (nanoml/parse.h).
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
model="$shared/models/tflm/hello_world_int8.tflite"
golden="$shared/golden/tflm-reference/hello_world_int8"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() { # CODE TEXT -- command...
  local code="$1" text="$2"
  shift 3
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
  [[ "$out" == *"$text"* ]] || fail "'$*' output lacks '$text': $out"
}

input="$(ls "$golden"/in_*.bin | head -1)"
want="$golden/out_${input##*/in_}"
expect 0 "guard bytes intact" -- "$cli" run "$model" --input "$input" --arena 16K \
  --output "$tmp/out.bin"
cmp -s "$tmp/out.bin" "$want" || fail "output in a 16K arena differs from TFLM's $want"
out="$("$cli" run "$model" --input "$input" --arena 16384)"
[[ "$out" =~ arena:\ ([0-9]+)\ of\ 16384\ bytes\ used ]] || fail "arena line: $out"
need="${BASH_REMATCH[1]:-0}"
# exactly the reported need works; one byte less is refused with the need in the message
expect 0 "arena: $need of $need bytes used, guard bytes intact" -- \
  "$cli" run "$model" --input "$input" --arena "$need"
expect 1 "the model needs $need bytes" -- "$cli" run "$model" --input "$input" --arena $((need - 1))
expect 1 "too small" -- "$cli" run "$model" --input "$input" --arena 0

expect 2 "--arena: 'bogus' is not a size" -- "$cli" run "$model" --input "$input" --arena bogus
expect 2 "--arena: '1.5K' is not a size" -- "$cli" run "$model" --input "$input" --arena 1.5K
expect 2 "--arena: '-5' is not a size" -- "$cli" run "$model" --input "$input" --arena -5
expect 2 "out of range (at most 2147483647 bytes)" -- \
  "$cli" run "$model" --input "$input" --arena 2G
expect 2 "option --arena needs a value" -- "$cli" run "$model" --input "$input" --arena
expect 0 "--arena BYTES" -- "$cli" run --help

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
