#!/usr/bin/env bash
# `nanoml train --normalize standardize` trains on standardized pixels but writes a model that
# reads [0, 1] pixels (the transform folded into C1): the runtime's `nanoml eval` of the written
# .tflite on the first 1,000 test images (fed as [0, 1] pixels, zero-padded) must agree with the
# training program's own accuracy on them (computed on standardized inputs) to within 2 images
# (float rounding may flip a borderline prediction). Options are validated.
set -euo pipefail
cli="${NML_CLI:?}"
data="/usr/share/datasets/fashion-mnist"
[ -f "$data/train-images-idx3-ubyte.gz" ] ||
  { echo "SKIP: Fashion-MNIST missing (apt-get install dataset-fashion-mnist)"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$cli" train lenet5 --epochs 1 --limit 3000 --test-limit 1000 --normalize standardize \
  --out "$work/m.tflite" \
  >"$work/train.log" 2>"$work/train.err" || { cat "$work/train.log" "$work/train.err"; exit 1; }
grep -q '(1000 images)' "$work/train.log" || { cat "$work/train.log"; exit 1; }
grep -q 'inputs standardized: pixel mean 0\.2[0-9]*, std 0\.3[0-9]*' "$work/train.err" ||
  { cat "$work/train.err"; exit 1; }
ta="$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' "$work/train.log")"
ea="$("$cli" eval "$work/m.tflite" --limit 1000 | sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p')"
awk -v t="$ta" -v e="$ea" 'BEGIN { d = t - e; if (d < 0) d = -d
  if (!(t > 50)) { print "FAIL: trained accuracy " t "%"; exit 1 }
  if (d > 0.2) { print "FAIL: eval of the written model " e "% vs training " t "%"; exit 1 } }'

# usage errors: exit status 2 with the reason
expect_usage() {
  set +e
  "$cli" train lenet5 "$@" >/dev/null 2>"$work/err"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || { echo "FAIL: $* gave status $rc"; cat "$work/err"; exit 1; }
}
expect_usage --normalize sometimes
grep -q "unknown normalization 'sometimes'" "$work/err"
expect_usage --normalize mean-pad --out "$work/x.tflite"
grep -q "mean-pad cannot be folded" "$work/err"
expect_usage --init xavier
grep -q "unknown initialization 'xavier'" "$work/err"
expect_usage --beta2 1.5
"$cli" train --help | grep -q -- '--normalize'
echo "ok: standardized training exports a [0, 1]-pixel model: training $ta%, runtime eval $ea%"
