#!/usr/bin/env bash
# Packed weights are linked only where a model needs them (src/runtime/packed_weak.h):
#  - a clustered LeNet-5 (packed tensors) runs as RV32 firmware under QEMU with the host
#    runtime's outputs byte for byte, and its firmware links packed.c;
#  - the same model unpacked (plain int8 weights) runs too, and its firmware has no packed.c code;
#  - the loader linked with the runtime library alone (tests/tools/runtime_load.c: no strong
#    reference to packed.c) refuses the packed model by name and loads the plain one, and so does
#    the loader compiled as `nanoml deploy` compiles it for a model without packed tensors
#    (NML_NO_PACKED_WEIGHTS: no code reaches packed.c).
set -euo pipefail
cli="${NML_CLI:?}"
: "${NML_BINARY_DIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/firmware_lib.sh"
data="/usr/share/datasets/fashion-mnist"
[ -f "$data/train-images-idx3-ubyte.gz" ] ||
  { echo "SKIP: Fashion-MNIST missing (apt-get install dataset-fashion-mnist)"; exit 77; }
loader="$NML_BINARY_DIR/tests/runtime_load"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$cli" train lenet5 --epochs 1 --limit 512 --out "$work/float.tflite" >"$work/train.log" 2>&1 ||
  { cat "$work/train.log"; exit 1; }
"$cli" cluster "$work/float.tflite" --clusters 4 --epochs 0 --quantize int8 \
  --calib fashion-mnist:50 --quiet --out "$work/packed.tflite" >"$work/cluster.log" 2>&1 ||
  { cat "$work/cluster.log"; exit 1; }
"$cli" inspect "$work/packed.tflite" | grep -q "^packed  *[1-9][0-9]* weight tensors" ||
  fail "the clustered model holds no packed tensors"
"$cli" pack "$work/packed.tflite" --unpack --quiet --out "$work/plain.tflite"

# the loader alone: refuses packed weights by name, loads the plain twin
for l in "$loader" "${loader}_nopacked"; do
  if out="$("$l" "$work/packed.tflite")"; then fail "$l loaded a packed model without packed.c: $out"; fi
  want="packed weights, but this runtime was linked without their code"
  [[ "$l" != *_nopacked ]] || want="but this runtime was compiled without packed weights"
  [[ "$out" == *"$want"* ]] || fail "unexpected refusal by $l: $out"
  [[ "$out" == "error: tensor "* ]] || fail "the refusal by $l does not name the tensor: $out"
  "$l" "$work/plain.tflite" | grep -q "^loaded: " || fail "the plain model does not load with $l"
done

# RV32: both run with the host's outputs; only the packed one links packed.c
fw_require_tools
head -c 4096 /dev/zero | tr '\0' '\075' >"$work/in.bin" # float32 0.0469 everywhere
for m in packed plain; do
  "$cli" run "$work/$m.tflite" --input "$work/in.bin" --output "$work/$m.host.bin" >/dev/null
  fw_deploy_expect "$cli" "$work/$m.tflite" "$work/in.bin" "$work/$m.host.bin" "$work/$m.log"
done
cmp -s "$work/packed.host.bin" "$work/plain.host.bin" || fail "packed and plain outputs differ"
# packed.c's verifier and decoders in each firmware (its functions are global symbols)
packed_code() { "${fw_prefix}nm" "$1/firmware.elf" | grep -cE ' [Tt] nml_packed_(parse|verify|next_)' || true; }
[ "$(packed_code "$work/packed.log.d")" -ge 3 ] ||
  fail "the packed model's firmware does not link packed.c"
[ "$(packed_code "$work/plain.log.d")" -eq 0 ] || fail "the plain model's firmware links packed.c code"
echo "PASS: packed.c linked only for the packed model; the loader alone refuses packed weights"
