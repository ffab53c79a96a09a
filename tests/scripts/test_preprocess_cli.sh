#!/usr/bin/env bash
# nanoml preprocess: usage errors, bad input, and the property the command exists for: its
# tensors are byte for byte the input `nanoml detect` feeds the model (same image, same model),
# in dataset order (eval-detect's order: sorted file names). Also `detect --out X.jpg` writes
# a JPEG. Model: FastestDet imported at 86x128 (fast enough for the sanitizer build).
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() { # expect CODE TEXT -- CMD...
  local code="$1" text="$2"
  shift 3
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
  [[ "$out" == *"$text"* ]] || fail "'$*' output lacks '$text': $out"
}

model="$tmp/fd.tflite"
"$cli" import "$shared/models/fastestdet/FastestDet.onnx" --out "$model" \
  --input-shape 1x3x86x128 --quiet || { echo "FAIL: import"; exit 1; }
image="$shared/images/3.jpg"
ds="$shared/datasets/coco128-val"

expect 0 "usage: nanoml preprocess" -- "$cli" preprocess --help
expect 0 "preprocess" -- "$cli" --help
expect 2 "no model given" -- "$cli" preprocess --out "$tmp/x"
expect 2 "no --out folder given" -- "$cli" preprocess "$model" "$image"
expect 2 "no images given" -- "$cli" preprocess "$model" --out "$tmp/x"
expect 2 "--skip and --limit apply to --dataset" -- "$cli" preprocess "$model" "$image" --out "$tmp/x" --limit 2
expect 2 "unknown option '--bogus'" -- "$cli" preprocess "$model" --bogus
expect 2 "--limit: '-1' is out of range" -- "$cli" preprocess "$model" --dataset "$ds" --limit -1 --out "$tmp/x"
expect 1 "the model was built for 128x86" -- "$cli" preprocess "$model" "$image" --size 352x352 --out "$tmp/x"
printf 'not an image' >"$tmp/notes.jpg"
expect 1 "notes.jpg" -- "$cli" preprocess "$model" "$tmp/notes.jpg" --out "$tmp/x" --quiet

# one image: the same bytes detect feeds the model
expect 0 "wrote 1 tensor (float32 1x86x128x3" -- "$cli" preprocess "$model" "$image" --out "$tmp/one"
"$cli" detect "$model" --image "$image" --save-input "$tmp/detect_in.npy" >/dev/null \
  || fail "detect --save-input"
cmp "$tmp/one/00000_3.npy" "$tmp/detect_in.npy" || fail "preprocess differs from detect's input"

# dataset order and --skip/--limit: images 2, 3, 4 of the sorted list
expect 0 "wrote 3 tensors" -- "$cli" preprocess "$model" --dataset "$ds" --skip 2 --limit 3 --out "$tmp/ds" --quiet
want="$(ls "$ds/images" | LC_ALL=C sort | sed -n '3,5p' | sed 's/\.[^.]*$//' | awk '{printf "%05d_%s.npy\n", NR - 1, $0}')"
got="$(ls "$tmp/ds")"
[ "$got" = "$want" ] || fail "dataset files: got '$got', want '$want'"
third="$(ls "$ds/images" | LC_ALL=C sort | sed -n 5p)"
"$cli" detect "$model" --image "$ds/images/$third" --save-input "$tmp/third.npy" >/dev/null \
  || fail "detect on $third"
cmp "$tmp/ds/$(echo "$want" | sed -n 3p)" "$tmp/third.npy" || fail "dataset tensor differs from detect's"

# detect --out NAME.jpg writes a JPEG (documentation pictures stay small)
"$cli" detect "$model" --image "$image" --out "$tmp/out.jpg" >/dev/null || fail "detect --out out.jpg"
head -c 3 "$tmp/out.jpg" | od -An -tx1 | grep -q "ff d8 ff" || fail "out.jpg is not a JPEG"

exit $((failures > 0))
