#!/usr/bin/env bash
# nanoml detect on FastestDet, imported and int8, against the author's ONNX Runtime picture for
# images/3.jpg (../shared/models/fastestdet/reference-result-onnxruntime.jpg): it shows four
# people with the scores 0.90, 0.90, 0.80 and 0.78 (printed with two decimals), nothing else.
# The imported float model must find exactly those (scores within 0.01 of the printed values);
# the int8 model (calibrated here on 4 coco128-val images with `nanoml preprocess`) the same four
# people within 0.05. At 128x86 the imported model must still run and find people.
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
node -e '
  const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (j.input_width !== 128 || j.input_height !== 86 || j.detections.length < 1 ||
      j.detections.some((d) => d.name !== "person")) { console.log(JSON.stringify(j)); process.exit(1); }' \
  <"$tmp/small.json" || fail "128x86: no people found"
exit $((failures > 0))
