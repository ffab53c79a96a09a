#!/usr/bin/env bash
# FastestDet int8 at 128x86 on RV32: the deployment issue's evidence that the firmware computes
# exactly what the host runtime computes on a real picture. The model is made here the way
# bench/fastestdet_study.sh makes it (import at 86x128, calibration tensors from `nanoml
# preprocess`, per-channel int8 with int8 I/O; 8 calibration images instead of 64 to stay fast:
# the structure and size do not depend on them). The host runtime (nanoml detect) runs
# images/3.jpg and saves its input and output tensors; the firmware under QEMU gets that input
# and must produce the same output bytes. Also: the int8 file is smaller than the study's
# onnx2tf int8 file (0.42 MB, a published figure).
set -euo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/firmware_lib.sh"
fw_require_tools
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$cli" import "$shared/models/fastestdet/FastestDet.onnx" --out "$work/float.tflite" \
  --input-shape 1x3x86x128 --quiet
"$cli" preprocess "$work/float.tflite" --dataset "$shared/datasets/coco128-val" --limit 8 \
  --out "$work/calib" --quiet >/dev/null
"$cli" quantize "$work/float.tflite" --calib "npy:$work/calib" --io int8 \
  --out "$work/int8.tflite" --quiet >/dev/null

# smaller than the study's onnx2tf file (0.42 MB rounded: at least 415,000 bytes)
bytes="$(stat -c %s "$work/int8.tflite")"
[ "$bytes" -lt 415000 ] || { echo "FAIL: int8 FastestDet is $bytes bytes"; exit 1; }
"$cli" inspect "$work/int8.tflite" >"$work/inspect.txt"
grep -q '^inputs *0: int8 1x86x128x3 ' "$work/inspect.txt" || { cat "$work/inspect.txt"; exit 1; }
grep -q '^outputs *0: int8 1x6x8x85 ' "$work/inspect.txt" || { cat "$work/inspect.txt"; exit 1; }

# the host runtime on a real picture
"$cli" detect "$work/int8.tflite" --image "$shared/images/3.jpg" --save-input "$work/in.npy" \
  --save-output "$work/out.npy" >"$work/detect.txt"
fw_npy_payload "$work/in.npy" "$work/in.bin"
fw_npy_payload "$work/out.npy" "$work/host.bin"
[ "$(stat -c %s "$work/in.bin")" -eq $((86 * 128 * 3)) ]
[ "$(stat -c %s "$work/host.bin")" -eq $((6 * 8 * 85)) ]

fw_deploy_expect "$cli" "$work/int8.tflite" "$work/in.bin" "$work/host.bin" "$work/deploy.log"
instr="$(fw_instructions "$work/deploy.log")"
[ -n "$instr" ] && [ "$instr" -gt 0 ] || { cat "$work/deploy.log"; exit 1; }
grep -qE '^  LINKER=flash_exec +RAM +[0-9]+ B' "$work/deploy.log"
echo "ok: FastestDet int8 128x86 ($bytes bytes) on RV32 equals the host runtime's output on" \
     "images/3.jpg; $instr instructions per inference, arena $(fw_arena "$work/deploy.log") B"
