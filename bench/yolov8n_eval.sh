#!/usr/bin/env bash
# The YOLOv8n int8 study on coco128-val, end to end in nanoml, and the regeneration of its part of
# docs/detection.md (between the "yolov8n-results" markers) and of docs/yolov8n_3.png:
#   - nanoml eval-detect on the shared export (the headline figures),
#   - model variants made by bench/det_variants: float twin, recalibrated activations (on the 5
#     shared pictures, and on coco128-val images 0-63), 10% pruned weights and filters,
#   - each evaluated on all 128 images and on images 64-127 (held out from that calibration),
#   - protocol variants of the baseline (P/R rule, input rounding, multi-label NMS),
#   - LiteRT (npm @litertjs/core) on one image against nanoml's output, when installed.
# Takes about an hour on 2 cores (about 1,450 YOLOv8n inferences).
# usage: bench/yolov8n_eval.sh [BUILD_DIR] [WORK_DIR]     (defaults: build-bench, a temp dir)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/bench/doc_section.sh"
build="${1:-$here/build-bench}"
shared="${NML_SHARED_DIR:-$here/../shared}"
model="$shared/models/yolov8n/yolov8n_full_integer_quant.tflite"
ds="$shared/datasets/coco128-val"
doc="$here/docs/detection.md"
keep=""
if [ -n "${2:-}" ]; then work="$2"; keep=1; mkdir -p "$work"; else
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
[ -f "$model" ] || { echo "yolov8n_eval: $model missing" >&2; exit 1; }

[ -f "$build/CMakeCache.txt" ] ||
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNML_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target nanoml det_variants -j2 >/dev/null
cli="$build/nanoml"
dv="$build/det_variants"
export NML_PROGRESS=1
log() { echo "yolov8n_eval: $*" >&2; }

# Every result file is kept in WORK_DIR; when WORK_DIR is given, steps whose result file already
# exists there are not redone (an interrupted run resumes; delete the folder to recompute).
step() { # RESULT_FILE command...: runs command with stdout into RESULT_FILE
  local out="$1"
  shift
  if [ -n "$keep" ] && [ -s "$out" ]; then log "reusing $(basename "$out")"; return; fi
  "$@" >"$out.part"
  mv "$out.part" "$out"
}

# ---- model variants ----
log "variants"
cp "$model" "$work/baseline.tflite"
step "$work/prune_weights.log" "$dv" prune "$model" "$work/prune_weights.tflite" --weights \
  --fraction 0.1
step "$work/prune_filters.log" "$dv" prune "$model" "$work/prune_filters.tflite" --filters \
  --fraction 0.1
# operator 240 is the DFL convolution (one filter of 16 fixed weights 0..15, not learned)
"$cli" inspect "$model" >"$work/inspect.txt"
grep -q "^ 240  CONV_2D .* int8 1x1x1x16" "$work/inspect.txt" ||
  { echo "yolov8n_eval: operator 240 is not the DFL convolution" >&2; exit 1; }
step "$work/prune_weights_nodfl.log" "$dv" prune "$model" "$work/prune_weights_nodfl.tflite" \
  --weights --fraction 0.1 --skip-op 240
step "$work/float_twin.log" "$dv" twin "$model" "$work/float_twin.tflite"
step "$work/recal_images5.log" "$dv" recal "$model" "$work/recal_images5.tflite" \
  "$shared"/images/*.jpg
step "$work/recal_coco64.log" "$dv" recal "$model" "$work/recal_coco64.tflite" --dataset "$ds" \
  --first 0 --count 64
step "$work/recal_images5_mean.log" "$dv" recal "$model" "$work/recal_images5_mean.tflite" --mean \
  "$shared"/images/*.jpg
step "$work/recal_coco64_mean.log" "$dv" recal "$model" "$work/recal_coco64_mean.tflite" \
  --dataset "$ds" --first 0 --count 64 --mean

# ---- evaluations ----
variants="baseline float_twin recal_images5 recal_coco64 recal_images5_mean recal_coco64_mean
  prune_weights prune_weights_nodfl prune_filters"
log "nanoml eval-detect (headline)"
step "$work/cli.txt" "$cli" eval-detect "$model" --dataset "$ds"
cat "$work/cli.txt" >&2
for v in $variants; do
  log "evaluate $v"
  step "$work/$v.eval" "$dv" eval "$work/$v.tflite" "$ds" --split 64
done
log "evaluate baseline variants"
step "$work/truncated.eval" "$dv" eval "$model" "$ds" --split 64 --truncate-input
step "$work/multilabel.eval" "$dv" eval "$model" "$ds" --split 64 --multi-label

# ---- LiteRT on one image ----
litert=""
if command -v node >/dev/null && [ -d "$here/tests/oracles/node_modules/@litertjs/core" ]; then
  log "LiteRT"
  "$cli" detect "$model" --image "$shared/images/3.jpg" --save-input "$work/in3.npy" \
    --save-output "$work/nanoml3.npy" >/dev/null
  node "$here/tests/oracles/litert_run.mjs" "$model" "$work/litert3" "$work/in3.npy" >/dev/null
  litert="$(node --input-type=module -e "
    import { readNpy } from '$here/tests/oracles/npy.mjs';
    const a = readNpy('$work/nanoml3.npy').data, b = readNpy('$work/litert3/out0.npy').data;
    const n = a.length / 84;
    const part = (r0, r1) => { let max = 0, diff = 0, cnt = 0;
      for (let r = r0; r < r1; r++) for (let i = 0; i < n; i++) {
        const d = Math.abs(a[r * n + i] - b[r * n + i]); cnt++; if (d) diff++; if (d > max) max = d; }
      return max + ' | ' + (100 * diff / cnt).toFixed(2) + '%'; };
    console.log('| boxes (rows 0-3) | ' + part(0, 4) + ' |');
    console.log('| class scores (rows 4-83) | ' + part(4, 84) + ' |');
    console.log('| all | ' + part(0, 84) + ' |');")"
  "$dv" decode "$model" "$shared/images/3.jpg" "$work/nanoml3.npy" >"$work/dets_nanoml.txt"
  "$dv" decode "$model" "$shared/images/3.jpg" "$work/litert3/out0.npy" >"$work/dets_litert.txt"
fi

# ---- the detection picture ----
"$cli" detect "$model" --image "$shared/images/3.jpg" --out "$here/docs/yolov8n_3.png" \
  >"$work/picture.txt"

# ---- tables ----
# field FILE SUBSET KEY: a value from a det_variants eval line
field() { awk -v s="$2" -v k="$3" '$1 == "subset" && $2 == s {
  for (i = 3; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$1"; }
fmt3() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
bytes() { stat -c %s "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
row() { # LABEL FILE SUBSET BYTES
  echo "| $1 | $4 | $(fmt3 "$(field "$2" "$3" precision)") | $(fmt3 "$(field "$2" "$3" recall)") |" \
       "$(fmt3 "$(field "$2" "$3" mAP50)") | $(fmt3 "$(field "$2" "$3" mAP50-95)") |"
}
zipped() { gzip -9 -c "$1" | wc -c | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
cli_get() { awk -v k="$1" '$1 == k { print $2 }' "$work/cli.txt"; }
e="$work"
{
  echo "<!-- yolov8n-results:begin (generated by bench/yolov8n_eval.sh; do not edit by hand) -->"
  echo
  echo "Generated $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) cores."
  echo
  echo "**\`nanoml eval-detect\` on the export** (default protocol: \`$(awk '$1 == "protocol" { sub(/^protocol +/, ""); print }' "$e/cli.txt")\`):"
  echo "precision $(cli_get precision), recall $(cli_get recall), mAP50 $(cli_get mAP50)," \
       "mAP50-95 $(cli_get mAP50-95), $(awk '$1 == "time" { print $2 }' "$e/cli.txt") s per image."
  echo
  echo "### All 128 images"
  echo
  echo "| model | bytes | precision | recall | mAP50 | mAP50-95 |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  echo "| study: PyTorch int8 | | 0.669 | 0.536 | 0.609 | 0.454 |"
  echo "| TFLite Micro reference kernels, the export | 3,293,273 | 0.681 | 0.548 | 0.516 | 0.363 |"
  row "nanoml, the export (baseline)" "$e/baseline.eval" all "$(bytes "$e/baseline.tflite")"
  row "nanoml, float twin (int8 weights, float activations)" "$e/float_twin.eval" all \
      "$(bytes "$e/float_twin.tflite")"
  row "nanoml, recalibrated on images/0-4.jpg (5 pictures outside coco128-val)" \
      "$e/recal_images5.eval" all "$(bytes "$e/recal_images5.tflite")"
  row "nanoml, recalibrated on coco128-val images 0-63 (half of these 128: optimistic)" \
      "$e/recal_coco64.eval" all "$(bytes "$e/recal_coco64.tflite")"
  row "nanoml, recalibrated on images/0-4.jpg, mean of per-image ranges" \
      "$e/recal_images5_mean.eval" all "$(bytes "$e/recal_images5_mean.tflite")"
  row "nanoml, recalibrated on coco128-val images 0-63, mean of per-image ranges (optimistic)" \
      "$e/recal_coco64_mean.eval" all "$(bytes "$e/recal_coco64_mean.tflite")"
  row "nanoml, 10% of each convolution's weights pruned (magnitude)" "$e/prune_weights.eval" all \
      "$(bytes "$e/prune_weights.tflite")"
  row "nanoml, the same without the fixed DFL convolution" "$e/prune_weights_nodfl.eval" all \
      "$(bytes "$e/prune_weights_nodfl.tflite")"
  row "nanoml, 10% of each convolution's filters pruned (L1)" "$e/prune_filters.eval" all \
      "$(bytes "$e/prune_filters.tflite")"
  echo "| study: 10% L1 unstructured pruning, no fine-tuning (PyTorch) | | 0.483 | 0.429 | 0.462 | 0.317 |"
  echo
  echo "### Images 64-127 (not used by either calibration)"
  echo
  echo "| model | bytes | precision | recall | mAP50 | mAP50-95 |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for v in $variants; do
    case $v in
      baseline) label="the export (baseline)" ;;
      float_twin) label="float twin" ;;
      recal_images5) label="recalibrated on images/0-4.jpg" ;;
      recal_coco64) label="recalibrated on coco128-val images 0-63" ;;
      recal_images5_mean) label="recalibrated on images/0-4.jpg, mean ranges" ;;
      recal_coco64_mean) label="recalibrated on coco128-val images 0-63, mean ranges" ;;
      prune_weights) label="10% weights pruned" ;;
      prune_weights_nodfl) label="10% weights pruned, DFL convolution kept" ;;
      prune_filters) label="10% filters pruned" ;;
    esac
    row "$label" "$e/$v.eval" rest64 "$(bytes "$e/$v.tflite")"
  done
  echo
  echo "### Protocol variants of the baseline (all 128 images)"
  echo
  echo "| variant | precision | recall | mAP50 | mAP50-95 |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  echo "| TFLite Micro reference figures | 0.681 | 0.548 | 0.516 | 0.363 |"
  pr() { echo "| $1 | $(fmt3 "$(field "$2" all "$3")") | $(fmt3 "$(field "$2" all "$4")") |" \
              "$(fmt3 "$(field "$2" all mAP50)") | $(fmt3 "$(field "$2" all mAP50-95)") |"; }
  pr "nanoml default: input rounded, best class per anchor, P/R at each class's best F1" \
     "$e/baseline.eval" precision recall
  pr "P/R at the best mean F1 (Ultralytics' single threshold)" "$e/baseline.eval" \
     precision_mean_f1 recall_mean_f1
  pr "input truncated toward zero (Ultralytics AutoBackend's astype)" "$e/truncated.eval" \
     precision recall
  pr "multi-label candidates (Ultralytics validation)" "$e/multilabel.eval" precision recall
  echo
  echo "### Pruning and recalibration details"
  echo
  echo "| model | what changed | gzip -9 bytes |"
  echo "| --- | --- | ---: |"
  echo "| the export | (3,146,176 convolution weights) | $(zipped "$e/baseline.tflite") |"
  echo "| 10% weights | $(sed 's/^pruned weights: //' "$e/prune_weights.log") | $(zipped "$e/prune_weights.tflite") |"
  echo "| 10% weights, DFL kept | $(sed 's/^pruned weights: //' "$e/prune_weights_nodfl.log") | $(zipped "$e/prune_weights_nodfl.tflite") |"
  echo "| 10% filters | $(sed 's/^pruned filters: //' "$e/prune_filters.log") | $(zipped "$e/prune_filters.tflite") |"
  echo "| recalibrated (5 pictures) | $(cat "$e/recal_images5.log") | $(zipped "$e/recal_images5.tflite") |"
  echo "| recalibrated (64 images) | $(cat "$e/recal_coco64.log") | $(zipped "$e/recal_coco64.tflite") |"
  echo "| recalibrated (5 pictures, mean) | $(cat "$e/recal_images5_mean.log") | $(zipped "$e/recal_images5_mean.tflite") |"
  echo "| recalibrated (64 images, mean) | $(cat "$e/recal_coco64_mean.log") | $(zipped "$e/recal_coco64_mean.tflite") |"
  if [ -n "$litert" ]; then
    echo
    echo "### LiteRT on images/3.jpg (same int8 input tensor)"
    echo
    echo "| output part | max difference (LSB) | values differing |"
    echo "| --- | ---: | ---: |"
    echo "$litert"
    echo
    echo "Decoded by nanoml (score > 0.25, class-wise NMS 0.7):"
    echo
    echo "| nanoml runtime | LiteRT |"
    echo "| --- | --- |"
    # pair the two lists by class, then left edge (both are in score order)
    rows() { awk '{ i = index($0, "["); x = substr($0, i + 1) + 0; line = $0; gsub(/  +/, " ", line)
                    name = substr($0, 1, match($0, / +[0-9]\.[0-9]+ \[/) - 1)
                    printf "%s %09.1f|%s\n", name, x, line }' "$1" | sort | cut -d'|' -f2; }
    paste -d'|' <(rows "$e/dets_nanoml.txt") <(rows "$e/dets_litert.txt") |
      awk -F'|' '{ print "| " $1 " | " $2 " |" }'
  fi
  echo
  echo "<!-- yolov8n-results:end -->"
} >"$work/section.md"

splice_doc_section "$doc" yolov8n-results "$work/section.md" YOLOv8n
log "wrote $doc and docs/yolov8n_3.png"
cat "$work/section.md"
