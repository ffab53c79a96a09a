#!/usr/bin/env bash
# LeNet-5 int8 on RV32: trained here in seconds, quantized with real training images, run as
# firmware under QEMU on 20 Fashion-MNIST test images; the RV32 outputs must be the host
# runtime's (`nanoml run`) byte for byte. The int8 model's accuracy on 500 test images must stay
# within 3 points of the float model's (which must have learned something: above 50%).
# Training: 1 epoch on 10,000 images (about 76% test accuracy with the default recipe, 65% with
# the old He init on [0, 1] pixels); 2,000 images left the old recipe
# at chance after one epoch, which would make the accuracy comparison meaningless.
set -euo pipefail
cli="${NML_CLI:?}"
: "${NML_BINARY_DIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/firmware_lib.sh"
fw_require_tools
data="/usr/share/datasets/fashion-mnist"
[ -f "$data/train-images-idx3-ubyte.gz" ] ||
  { echo "SKIP: Fashion-MNIST missing (apt-get install dataset-fashion-mnist)"; exit 77; }
tool="$NML_BINARY_DIR/tests/idx_npy"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$cli" train lenet5 --epochs 1 --limit 10000 --out "$work/float.tflite" >"$work/train.log" 2>&1 ||
  { cat "$work/train.log"; exit 1; }
# calibration: 300 training images as float .npy, preprocessed as for training
"$tool" "$data" train 0 300 32 32 "$work/calib"
"$cli" quantize "$work/float.tflite" --calib "npy:$work/calib" --io int8 \
  --out "$work/int8.tflite" --quiet >/dev/null

# the int8 input's quantization, from the model
"$cli" inspect "$work/int8.tflite" >"$work/inspect.txt"
line="$(grep '^inputs *0: int8 1x32x32x1 ' "$work/inspect.txt")" || { cat "$work/inspect.txt"; exit 1; }
scale="$(sed -n 's/.*scale \([0-9.e+-]*\), zero point \(-*[0-9]*\)).*/\1/p' <<<"$line")"
zp="$(sed -n 's/.*scale \([0-9.e+-]*\), zero point \(-*[0-9]*\)).*/\2/p' <<<"$line")"
[ -n "$scale" ] && [ -n "$zp" ] || { echo "no input quantization in: $line"; exit 1; }

# 20 test images as int8 input bytes; the host runtime's outputs for each
"$tool" "$data" t10k 0 20 32 32 "$work/in" --int8 "$scale" "$zp"
: >"$work/in.bin"
: >"$work/host.bin"
for f in "$work"/in/*.bin; do
  "$cli" run "$work/int8.tflite" --input "$f" --output "$work/out.bin" >/dev/null
  cat "$f" >>"$work/in.bin"
  cat "$work/out.bin" >>"$work/host.bin"
done
[ "$(stat -c %s "$work/host.bin")" -eq 200 ]

fw_deploy_expect "$cli" "$work/int8.tflite" "$work/in.bin" "$work/host.bin" "$work/deploy.log"
grep -qE '^  over 20 input sets: min [0-9]+' "$work/deploy.log" || { cat "$work/deploy.log"; exit 1; }

# accuracy: int8 within 3 points of float on 500 test images
acc() { "$cli" eval "$1" --limit 500 | sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p'; }
fa="$(acc "$work/float.tflite")"
qa="$(acc "$work/int8.tflite")"
awk -v f="$fa" -v q="$qa" 'BEGIN { d = f - q; if (d < 0) d = -d
  if (!(f > 50)) { print "FAIL: float accuracy " f "% (not trained)"; exit 1 }
  if (d > 3) { print "FAIL: int8 " q "% vs float " f "%"; exit 1 } }'
echo "ok: LeNet-5 int8 on RV32 equals the host runtime on 20 test images;" \
     "$(fw_instructions "$work/deploy.log") instructions per inference;" \
     "accuracy on 500 test images: float $fa%, int8 $qa%"
