#!/usr/bin/env bash
# nanoml prune / cluster / qat / compress on a tiny subset of Fashion-MNIST: help, usage errors,
# bad input, and each technique run end to end (the result must load in the runtime and keep
# the structure the technique promises).
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
fmnist=/usr/share/datasets/fashion-mnist
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] || { echo "SKIP: no Fashion-MNIST"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect() { # expect CODE TEXT -- CMD...: exit code and a piece of the output (stdout + stderr)
  local code="$1" text="$2"
  shift 3
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
  [[ "$out" == *"$text"* ]] || fail "'$*' output lacks '$text': $out"
}

small="--limit 256 --batch 32 --quiet"
"$cli" train lenet5 --epochs 1 --limit 512 --out "$tmp/m.tflite" > /dev/null 2>&1 ||
  { echo "FAIL: training the model"; exit 1; }

# help and usage
for c in prune cluster qat compress; do
  expect 0 "usage: nanoml $c" -- "$cli" "$c" --help
  expect 0 "$c" -- "$cli" --help
done
expect 2 "--out is required" -- "$cli" prune "$tmp/m.tflite"
expect 2 "no model given" -- "$cli" cluster --out "$tmp/x.tflite"
expect 2 "sparsity 1.5 is outside [0, 1)" -- "$cli" prune "$tmp/m.tflite" --sparsity 1.5 --out "$tmp/x.tflite"
expect 2 "sparsity -0.2 is outside [0, 1)" -- "$cli" prune "$tmp/m.tflite" --layers c1:-0.2 --out "$tmp/x.tflite"
expect 2 "0 clusters: the number of clusters must be 1 to 256" -- "$cli" cluster "$tmp/m.tflite" --clusters 0 --out "$tmp/x.tflite"
expect 2 "300 clusters" -- "$cli" cluster "$tmp/m.tflite" --clusters 300 --out "$tmp/x.tflite"
expect 2 "unknown setting 'sparcity'" -- "$cli" prune "$tmp/m.tflite" --sparcity 0.5 --out "$tmp/x.tflite"
expect 2 "at least 1 epoch" -- "$cli" qat "$tmp/m.tflite" --epochs 0 --out "$tmp/x.tflite"
expect 2 "give the steps" -- "$cli" compress "$tmp/m.tflite" --out "$tmp/x.tflite"
expect 2 "unknown setting 'quantize'" -- "$cli" qat "$tmp/m.tflite" --quantize int8 --out "$tmp/x.tflite"

# bad input
expect 1 "is int8" -- "$cli" prune "$shared/models/tflm/hello_world_int8.tflite" --out "$tmp/x.tflite"
expect 1 "is int8" -- "$cli" qat "$shared/models/tflm/hello_world_int8.tflite" --out "$tmp/x.tflite"
expect 1 "layer '"'nope'"' is not a layer with weights" -- "$cli" prune "$tmp/m.tflite" --layers nope:0.5 --epochs 0 --out "$tmp/x.tflite"
expect 1 "20 clusters for 16 weights" -- "$cli" cluster "$shared/models/tflm/hello_world_float.tflite" --clusters 20 --epochs 0 --out "$tmp/x.tflite"
expect 1 "not a 1 x H x W x 1 image" -- "$cli" prune "$shared/models/tflm/hello_world_float.tflite" --epochs 1 --out "$tmp/x.tflite"
mkdir -p "$tmp/empty"
expect 1 "no image files" -- "$cli" quantize "$tmp/m.tflite" --calib "images:$tmp/empty" --out "$tmp/x.tflite"
expect 1 "no image files" -- "$cli" prune "$tmp/m.tflite" --epochs 0 --quantize int8 --calib "images:$tmp/empty" --out "$tmp/x.tflite"
printf 'prune sparsity=0.5\n# a comment\ncluster clusters=16 init=kmeanz\n' > "$tmp/bad.recipe"
expect 1 "line 3: cluster: init=kmeanz: unknown value 'kmeanz'" -- "$cli" compress "$tmp/m.tflite" --recipe "$tmp/bad.recipe" --out "$tmp/x.tflite"
printf 'qat\nprune\n' > "$tmp/order.recipe"
expect 1 "line 2: prune cannot follow qat on line 1" -- "$cli" compress "$tmp/m.tflite" --recipe "$tmp/order.recipe" --out "$tmp/x.tflite"
printf 'prune\npack\n' > "$tmp/pack.recipe"
expect 1 "line 2: pack cannot follow prune on line 1" -- "$cli" compress "$tmp/m.tflite" --recipe "$tmp/pack.recipe" --out "$tmp/x.tflite"
expect 2 "--no-pack contradicts the pack step" -- "$cli" compress "$tmp/m.tflite" --step qat --step pack --no-pack --out "$tmp/x.tflite"
expect 2 "unknown setting 'clusters' (sparse, clustered, min-elements)" -- "$cli" compress "$tmp/m.tflite" --step qat --step "pack clusters=16" --out "$tmp/x.tflite"
[ ! -e "$tmp/x.tflite" ] || fail "a failed command wrote its output"

# each technique end to end; the result runs in the runtime (nanoml eval)
evaluates() { "$cli" eval "$1" --limit 100 | grep -q "accuracy" || fail "$1 does not evaluate"; }
expect 0 "50.0% of 61470 weights zero" -- "$cli" prune "$tmp/m.tflite" --sparsity 0.5 --epochs 1 --frequency 2 $small --out "$tmp/p.tflite"
evaluates "$tmp/p.tflite"
expect 0 "at most 4 distinct values in a layer" -- "$cli" cluster "$tmp/p.tflite" --clusters 4 --preserve sparsity --epochs 1 $small --out "$tmp/c.tflite"
evaluates "$tmp/c.tflite"
out="$("$cli" qat "$tmp/c.tflite" --preserve sparsity,clusters --epochs 1 $small --out "$tmp/q.tflite" 2>&1)" ||
  fail "qat failed: $out"
for want in "per-tensor weights" "learned range" "50.0% of 61470 weights zero" "at most 4 distinct"; do
  [[ "$out" == *"$want"* ]] || fail "qat output lacks '$want': $out"
done
"$cli" inspect "$tmp/q.tflite" | grep -q "int8 120x5x5x16" || fail "the QAT result has no int8 weights"
evaluates "$tmp/q.tflite"
expect 0 "removed" -- "$cli" prune "$tmp/m.tflite" --structure filters --sparsity 0.5 --epochs 1 $small --out "$tmp/f.tflite"
"$cli" inspect "$tmp/f.tflite" | grep -q "60x5x5x8" || fail "filters were not removed"
evaluates "$tmp/f.tflite"
printf '# PCQAT\nprune sparsity=0.5 epochs=1 frequency=2\ncluster clusters=8 preserve=sparsity\nqat preserve=sparsity,clusters\n' > "$tmp/pcqat.recipe"
# the quantized result is packed by default: the pack step reports the encodings, the file holds
# packed tensors, and it computes what its plain twin (nanoml pack --unpack) computes
expect 0 "sparse-bitmask+clustered" -- "$cli" compress "$tmp/m.tflite" --recipe "$tmp/pcqat.recipe" --limit 256 --quiet --out "$tmp/r.tflite"
evaluates "$tmp/r.tflite"
"$cli" inspect "$tmp/r.tflite" | grep -q "^packed  *4 weight tensors" || fail "the PCQAT result is not packed"
"$cli" pack "$tmp/r.tflite" --unpack --quiet --out "$tmp/ru.tflite" || fail "unpacking the PCQAT result"
[ "$(stat -c %s "$tmp/r.tflite")" -lt "$(( $(stat -c %s "$tmp/ru.tflite") / 2 ))" ] ||
  fail "packing did not halve the PCQAT model"
[ "$("$cli" eval "$tmp/r.tflite" --limit 300 | sed 's/^[^:]*://')" = "$("$cli" eval "$tmp/ru.tflite" --limit 300 | sed 's/^[^:]*://')" ] ||
  fail "packed and plain PCQAT models disagree"
expect 0 "wrote $tmp/rn.tflite" -- "$cli" compress "$tmp/m.tflite" --recipe "$tmp/pcqat.recipe" --limit 256 --quiet --no-pack --out "$tmp/rn.tflite"
! "$cli" inspect "$tmp/rn.tflite" | grep -q "^packed" || fail "--no-pack wrote packed tensors"
cmp -s "$tmp/rn.tflite" "$tmp/ru.tflite" || fail "--no-pack differs from the unpacked packed result"
expect 0 "quantize: int8, 50 calibration samples" -- "$cli" cluster "$tmp/m.tflite" --epochs 0 --quantize int8 --calib fashion-mnist:50 --quiet --out "$tmp/ci.tflite"
evaluates "$tmp/ci.tflite"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
