#!/usr/bin/env bash
# nanoml detect on FastestDet, imported and int8, against the author's ONNX Runtime picture for
# images/3.jpg (../shared/models/fastestdet/reference-result-onnxruntime.jpg): it shows four
# people with the scores 0.90, 0.90, 0.80 and 0.78 (printed with two decimals), nothing else.
# The imported float model must find exactly those (scores within 0.01 of the printed values);
# the int8 model (calibrated here on 4 coco128-val images with `nanoml preprocess`) the same four
# people within 0.05. At 128x86 (same weights, no retraining) the imported model must find
# people whose boxes overlap the float 352x352 boxes just checked (IoU >= 0.5 each, at least
# two): the decoder scales FastestDet's box sizes by the training size over the input size
# (352/128, 352/86). With that correction turned off (--train-size 128x86) the boxes shrink by
# those factors and must not overlap, which shows the check can fail.
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
command -v node >/dev/null || { echo "SKIP: node missing for the JSON checks"; exit 77; }
onnx="$shared/models/fastestdet/FastestDet.onnx"
image="$shared/images/3.jpg"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# check JSON TOLERANCE: the four reference people, nothing else
check() {
  node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const tol = Number(process.argv[1]);
    const want = [0.90, 0.90, 0.80, 0.78];
    const got = j.detections.map((d) => d.score).sort((a, b) => b - a);
    const names = [...new Set(j.detections.map((d) => d.name))];
    if (got.length !== 4 || names.join() !== "person") {
      console.log("detections: " + JSON.stringify(j.detections)); process.exit(1); }
    for (let i = 0; i < 4; i++)
      if (Math.abs(got[i] - want[i]) > tol + 0.005) {
        console.log("scores " + got.join(", ") + " vs " + want.join(", ")); process.exit(1); }' "$1"
}

"$cli" import "$onnx" --out "$tmp/fd352.tflite" --quiet || { echo "FAIL: import"; exit 1; }
"$cli" detect "$tmp/fd352.tflite" --image "$image" --size 352x352 --json >"$tmp/float.json" \
  || fail "detect float"
check 0.01 <"$tmp/float.json" || fail "float 352x352 differs from the reference picture"

"$cli" preprocess "$tmp/fd352.tflite" --dataset "$shared/datasets/coco128-val" --limit 4 \
  --out "$tmp/calib" --quiet >/dev/null || fail "preprocess"
"$cli" quantize "$tmp/fd352.tflite" --calib "npy:$tmp/calib" --io int8 --out "$tmp/int8.tflite" \
  --quiet >/dev/null || fail "quantize"
"$cli" detect "$tmp/int8.tflite" --image "$image" --json >"$tmp/int8.json" || fail "detect int8"
check 0.05 <"$tmp/int8.json" || fail "int8 352x352 differs from the reference picture"

"$cli" import "$onnx" --out "$tmp/fd128.tflite" --input-shape 1x3x86x128 --quiet || fail "import 128x86"
"$cli" detect "$tmp/fd128.tflite" --image "$image" --size 128x86 --json >"$tmp/small.json" \
  || fail "detect 128x86"
# overlap SMALL.json BIG.json EXPECT(1 = every small box overlaps, 0 = none does)
overlap() {
  node -e '
    const fs = require("fs");
    const [small, big] = [process.argv[1], process.argv[2]].map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const want = process.argv[3] === "1";
    const iou = (a, b) => {
      const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]), h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
      const i = w > 0 && h > 0 ? w * h : 0;
      return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i); };
    const best = small.detections.map((d) => Math.max(0, ...big.detections.map((e) => iou(d.box, e.box))));
    const ok = small.input_width === 128 && small.input_height === 86 && best.length >= 2 &&
      small.detections.every((d) => d.name === "person") &&
      best.every((v) => (want ? v >= 0.5 : v < 0.5));
    if (!ok) { console.log("best IoU per box: " + best.map((v) => v.toFixed(3)).join(", ") +
                            " " + JSON.stringify(small.detections)); process.exit(1); }' "$1" "$2" "$3"
}
overlap "$tmp/small.json" "$tmp/float.json" 1 || fail "128x86: people not where the 352x352 model finds them"
"$cli" detect "$tmp/fd128.tflite" --image "$image" --size 128x86 --train-size 128x86 --json \
  >"$tmp/small_raw.json" || fail "detect 128x86 --train-size 128x86"
overlap "$tmp/small_raw.json" "$tmp/float.json" 0 || fail "128x86 without the size correction overlaps"
exit $((failures > 0))
