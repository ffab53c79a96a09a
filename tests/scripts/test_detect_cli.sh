#!/usr/bin/env bash
# nanoml detect / eval-detect: help, usage errors, one-line errors for a bad image, a model that
# is not a detector, a size the model was not built for, a dataset without labels; then one real
# YOLOv8n inference on images/3.jpg (the street scene: four people, each holding or throwing a
# frisbee, counted by eye) whose picture must show them, with every box inside the 500x335 image,
# a valid PNG and JSON (not in sanitizer builds, where it takes 30 s). Skipped parts say why.
set -uo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
yolo="$shared/models/yolov8n/yolov8n_full_integer_quant.tflite"
person="$shared/models/tflm/person_detect.tflite"
image="$shared/images/3.jpg"
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
expect_error() { # CMD TEXT -- command...: exit 1, one line "nanoml CMD: ...TEXT..."
  local cmd="$1" text="$2"
  shift 3
  local err rc
  err="$("$@" 2>&1 >/dev/null)"
  rc=$?
  [ "$rc" -eq 1 ] || fail "'$*' exited $rc, expected 1: $err"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
  [[ "$err" == "nanoml $cmd: "*"$text"* ]] || fail "'$*' error lacks '$text': $err"
}

expect 0 "usage: nanoml detect" -- "$cli" detect --help
expect 0 "letterbox" -- "$cli" detect --help
expect 0 "usage: nanoml eval-detect" -- "$cli" eval-detect --help
expect 0 "mAP50-95" -- "$cli" eval-detect --help
expect 0 "eval-detect" -- "$cli" --help
expect 2 "no model given" -- "$cli" detect --image x.jpg
expect 2 "no --image given" -- "$cli" detect "$yolo"
expect 2 "--size: size '640' is not WIDTHxHEIGHT" -- "$cli" detect "$yolo" --image x.jpg --size 640
expect 2 "unknown decoder 'yolo'" -- "$cli" detect "$yolo" --image x.jpg --decoder yolo
expect 2 "--score: '1.5' is out of range (0 to 1)" -- "$cli" detect "$yolo" --image x.jpg --score 1.5
expect 2 "unknown option '--bogus'" -- "$cli" detect "$yolo" --bogus
expect 2 "no --dataset given" -- "$cli" eval-detect "$yolo"
expect 2 "--nms takes per-class or agnostic" -- "$cli" eval-detect "$yolo" --dataset d --nms x
expect 2 "--limit: '-3' is out of range" -- "$cli" eval-detect "$yolo" --dataset d --limit -3

if [ ! -f "$yolo" ] || [ ! -f "$person" ]; then
  echo "SKIP: shared models missing"
  exit $((failures > 0))
fi

# errors that need a model but no inference
expect_error detect "input 1x96x96x1 is not an image tensor" -- \
  "$cli" detect "$person" --image "$image"
expect_error detect "size 320x320 requested, but the model was built for 640x640" -- \
  "$cli" detect "$yolo" --image "$image" --size 320x320
expect_error detect "1x84x8400 is not a FastestDet head" -- \
  "$cli" detect "$yolo" --image "$image" --decoder fastestdet
printf 'not a picture' >"$tmp/bad.jpg"
expect_error detect "bad.jpg" -- "$cli" detect "$yolo" --image "$tmp/bad.jpg"
expect_error detect "missing.jpg" -- "$cli" detect "$yolo" --image "$tmp/missing.jpg"
printf 'cat\ndog\n' >"$tmp/two.names"
expect_error detect "not a detection head for 2 classes" -- \
  "$cli" detect "$yolo" --image "$image" --names "$tmp/two.names"
mkdir -p "$tmp/ds/images"
cp "$image" "$tmp/ds/images/a.jpg"
expect_error eval-detect "labels folder not found" -- \
  "$cli" eval-detect "$yolo" --dataset "$tmp/ds"
mkdir -p "$tmp/ds/labels"
printf '0 0.5 0.5 0.2\n' >"$tmp/ds/labels/a.txt"
expect_error eval-detect "a.txt:1:" -- "$cli" eval-detect "$yolo" --dataset "$tmp/ds"

# one real inference: about 2 s optimised, about 30 s in the Debug + ASan build, where it is left
# to the optimised build and bench/yolov8n_eval.sh (unit tests stay fast)
if ldd "$cli" 2>/dev/null | grep -q libasan; then
  echo "SKIP: real YOLOv8n inference in a sanitizer build"
  exit $((failures > 0))
fi
json="$("$cli" detect "$yolo" --image "$image" --json --out "$tmp/out.png")" \
  || fail "detect exited $?"
command -v node >/dev/null 2>&1 || { echo "SKIP: node missing for the JSON checks"; exit $((failures > 0)); }
printf '%s' "$json" | node -e '
  const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const fails = [];
  if (j.decoder !== "yolov8" || j.width !== 500 || j.height !== 335 || j.input_width !== 640)
    fails.push("header " + JSON.stringify(j));
  const count = (n) => j.detections.filter((d) => d.name === n && d.score > 0.5).length;
  if (count("person") < 4) fails.push("fewer than 4 people");
  if (count("frisbee") < 4) fails.push("fewer than 4 frisbees");
  for (const d of j.detections) {
    const [x1, y1, x2, y2] = d.box;
    if (!(x1 >= 0 && y1 >= 0 && x2 <= 500 && y2 <= 335 && x2 > x1 && y2 > y1))
      fails.push("box outside the image " + JSON.stringify(d));
    if (!(d.score > 0.25 && d.score <= 1)) fails.push("score " + d.score);
  }
  if (fails.length) { console.log(fails.join("\n")); process.exit(1); }' \
  || fail "detections on 3.jpg"
head -c 8 "$tmp/out.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || fail "out.png is not a PNG"

exit $((failures > 0))
