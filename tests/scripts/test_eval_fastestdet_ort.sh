#!/usr/bin/env bash
# Validates nanoml's image preprocessing, FastestDet decoding and detection metrics against the
# published reference figures for ONNX Runtime's float FastestDet on coco128-val (352x352 bilinear
# stretch, BGR/255, scores > 0.001, NMS 0.45):
#     precision 0.599  recall 0.395  mAP50 0.342  mAP50-95 0.188
# nanoml preprocesses the images (decode, resize, tensor), ONNX Runtime (npm onnxruntime-node)
# runs the network, nanoml decodes and scores the outputs. Each figure must land within 0.005.
# The reference is reproduced with class-agnostic NMS and per-class best-F1 precision/recall;
# docs/detection-metrics.md ("Validation against the FastestDet reference") explains why.
set -euo pipefail

: "${NML_SOURCE_DIR:?}" "${NML_BINARY_DIR:?}" "${NML_SHARED_DIR:?}"
tool="$NML_BINARY_DIR/tests/fastestdet_ort"
oracles="$NML_SOURCE_DIR/tests/oracles"
model="$NML_SHARED_DIR/models/fastestdet/FastestDet.onnx"
dataset="$NML_SHARED_DIR/datasets/coco128-val"

if [ ! -d "$oracles/node_modules/onnxruntime-node" ]; then
    echo "onnxruntime-node missing: run scripts/setup.sh (or: cd tests/oracles &&" \
         "ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci)" >&2
    exit 1
fi
[ -x "$tool" ] || { echo "missing $tool (build the tests)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export NML_PROGRESS=1 # sparse progress lines in the test log
"$tool" prep "$dataset" "$work"
node "$oracles/ort_batch.mjs" "$model" "$work" "$work"
"$tool" eval "$dataset" "$work" --threshold 0.001 --nms-iou 0.45 --class-agnostic \
    --pr class-f1 | tee "$work/metrics.txt"

check() { # name reference
    local got
    got="$(awk -v k="$1" '$1 == k { print $2 }' "$work/metrics.txt")"
    [ -n "$got" ] || { echo "FAIL: no $1 in the output"; return 1; }
    if awk -v g="$got" -v r="$2" 'BEGIN { d = g - r; if (d < 0) d = -d; exit !(d <= 0.005) }'; then
        echo "ok: $1 $got (reference $2)"
    else
        echo "FAIL: $1 $got differs from the reference $2 by more than 0.005"
        return 1
    fi
}

status=0
check precision 0.599 || status=1
check recall 0.395 || status=1
check mAP50 0.342 || status=1
check mAP50-95 0.188 || status=1
exit $status
