#!/usr/bin/env bash
# The FastestDet study end to end in nanoml, and the regeneration of its part of
# docs/detection.md (between the "fastestdet-results" markers) and of the pictures
# docs/fastestdet_3_*.jpg:
#   - import FastestDet.onnx at 352x352 and re-targeted to 128x86 (nanoml import),
#   - calibration tensors from coco128-val (nanoml preprocess, exactly detect's preprocessing),
#   - int8 post-training quantization (nanoml quantize, per channel): three calibrators on
#     images 0-63, then the chosen one on other calibration sets and with other I/O types,
#   - every model evaluated on all 128 images and on images 64-127 (held out from calibration)
#     with the FastestDet reference protocol (bench/det_variants eval = nanoml eval-detect's
#     defaults),
#   - detections on images/3.jpg at both sizes, float and int8, next to the author's picture,
#   - host instructions per inference (callgrind, one inference, this Release build),
#   - the int8 128x86 model as RV32IMC firmware under QEMU (nanoml deploy --target rv32-qemu):
#     instructions, memory, X-HEEP fit, and its output compared with the host runtime's.
# Takes about 2 minutes on 2 cores (2 min 8 s on 2026-11-27 with one other build running).
# usage: bench/fastestdet_study.sh [BUILD_DIR] [WORK_DIR]   (defaults: build-bench, a temp dir)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/bench/doc_section.sh"
build="${1:-$here/build-bench}"
shared="${NML_SHARED_DIR:-$here/../shared}"
onnx="$shared/models/fastestdet/FastestDet.onnx"
reference_jpg="$shared/models/fastestdet/reference-result-onnxruntime.jpg"
ds="$shared/datasets/coco128-val"
image="$shared/images/3.jpg"
doc="$here/docs/detection.md"
calib_count=64 # coco128-val images 0-63 calibrate; 64-127 are held out
keep=""
if [ -n "${2:-}" ]; then work="$2"; keep=1; mkdir -p "$work"; else
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
for f in "$onnx" "$reference_jpg" "$image"; do
  [ -f "$f" ] || { echo "fastestdet_study: $f missing" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "fastestdet_study: valgrind missing" >&2; exit 1; }

[ -f "$build/CMakeCache.txt" ] ||
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNML_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target nanoml det_variants bench_infer -j2 >/dev/null
cli="$build/nanoml"
dv="$build/det_variants"
export NML_PROGRESS=1
log() { echo "fastestdet_study: $*" >&2; }

# Every result file is kept in WORK_DIR; when WORK_DIR is given, steps whose result file already
# exists there are not redone (an interrupted run resumes; delete the folder to recompute).
step() { # RESULT_FILE command...: runs command with stdout into RESULT_FILE
  local out="$1"
  shift
  if [ -n "$keep" ] && [ -s "$out" ]; then log "reusing $(basename "$out")"; return; fi
  "$@" >"$out.part"
  mv "$out.part" "$out"
}

# ---- import and calibration tensors ----
log "import"
step "$work/import352.log" "$cli" import "$onnx" --out "$work/float352.tflite"
step "$work/import128.log" "$cli" import "$onnx" --out "$work/float128.tflite" \
  --input-shape 1x3x86x128
log "calibration tensors"
# all 128 images per size (quantize --samples takes the first N), and the 5 shared pictures
# images/0-4.jpg, which are not in coco128-val
step "$work/prep352.log" "$cli" preprocess "$work/float352.tflite" --dataset "$ds" \
  --out "$work/cal352" --quiet
step "$work/prep128.log" "$cli" preprocess "$work/float128.tflite" --dataset "$ds" \
  --out "$work/cal128" --quiet
step "$work/prep352_out5.log" "$cli" preprocess "$work/float352.tflite" "$shared"/images/*.jpg \
  --out "$work/cal352_out5" --quiet

# quant NAME FLOAT_MODEL CALIB_DIR SAMPLES CALIBRATOR IO [quantize options] -> work/NAME.tflite
quant() {
  local name="$1" model="$2" dir="$3" n="$4" calibrator="$5" io="$6"
  shift 6
  step "$work/$name.qlog" "$cli" quantize "$model" --calib "npy:$dir" --samples "$n" \
    --calibrator "$calibrator" --io "$io" --out "$work/$name.tflite" --quiet "$@"
}
evaluate() { # NAME [det_variants options]
  local name="$1"
  shift
  log "evaluate $name"
  step "$work/$name.eval" "$dv" eval "$work/$name.tflite" "$ds" --split "$calib_count" "$@"
}
# field NAME SUBSET KEY: a value from a det_variants eval line
field() { awk -v s="$2" -v k="$3" '$1 == "subset" && $2 == s {
  for (i = 3; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$work/$1.eval"; }

# ---- calibrators (352x352, images 0-63, int8 I/O) ----
for c in minmax percentile mse; do
  log "quantize with $c"
  quant "q352_${c}" "$work/float352.tflite" "$work/cal352" "$calib_count" "$c" int8
  evaluate "q352_${c}"
done
# the calibrator: highest mAP50 on the held-out images 64-127 (first listed wins a tie)
best=""
best_map=-1
for c in minmax percentile mse; do
  m="$(field "q352_$c" rest64 mAP50)"
  if awk -v a="$m" -v b="$best_map" 'BEGIN { exit !(a > b) }'; then best="$c"; best_map="$m"; fi
done
log "calibrator: $best (held-out mAP50 $best_map)"

# ---- the chosen calibrator: other calibration sets, other I/O types, 128x86 ----
quant q352_all128 "$work/float352.tflite" "$work/cal352" 128 "$best" int8
quant q352_out5 "$work/float352.tflite" "$work/cal352_out5" 5 "$best" int8
quant q352_uint8 "$work/float352.tflite" "$work/cal352" "$calib_count" "$best" uint8
quant q352_floatio "$work/float352.tflite" "$work/cal352" "$calib_count" "$best" float
quant q128 "$work/float128.tflite" "$work/cal128" "$calib_count" "$best" int8
# the same file with every tensor name kept (quantize drops the internal ones by default)
quant q352_names "$work/float352.tflite" "$work/cal352" "$calib_count" "$best" int8 --keep-names
cp "$work/q352_$best.tflite" "$work/q352.tflite"
for v in float352 q352 q352_all128 q352_out5 q352_uint8 q352_floatio float128 q128; do
  [ "$v" = q352 ] && { cp "$work/q352_$best.eval" "$work/q352.eval"; continue; }
  evaluate "$v"
done
# 128x86: the decoder scales box sizes by 352/128 and 352/86 and counts 16-pixel cells (86 rows
# hold 5.375 of the 6). Without each correction, and with the size factors 0.75 and 1.25 times
# what the training size predicts, to see whether the prediction is the best factor.
for v in float128 q128; do
  cp "$work/$v.tflite" "$work/${v}_nosize.tflite"
  evaluate "${v}_nosize" --train-size 128 86
done
cp "$work/float128.tflite" "$work/float128_nocells.tflite"
evaluate float128_nocells --stride 0
for f in 0.75 1.25; do
  cp "$work/float128.tflite" "$work/float128_x$f.tflite"
  evaluate "float128_x$f" --box-scale "$f" "$f"
done

# the evaluations above are det_variants' one-pass form of `nanoml eval-detect`'s defaults; the
# headline rows must give the same figures through the CLI itself
for v in float352 q352; do
  log "nanoml eval-detect $v"
  step "$work/$v.cli.json" "$cli" eval-detect "$work/$v.tflite" --dataset "$ds" --json
  for k in mAP50 mAP50-95; do
    a="$(sed -n "s/.*\"${k/-/_}\": \([0-9.]*\).*/\1/p" "$work/$v.cli.json")"
    b="$(field "$v" all "$k")"
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(a != "" && (a - b) ^ 2 < 1e-8) }' ||
      { echo "fastestdet_study: $v $k: eval-detect $a, det_variants $b" >&2; exit 1; }
  done
done

# ---- pictures: images/3.jpg ----
log "pictures"
picture() { # NAME SIZE OUT
  "$cli" detect "$work/$1.tflite" --image "$image" --size "$2" --out "$here/docs/$3" \
    --save-input "$work/$1_in3.npy" --save-output "$work/$1_out3.npy" >"$work/$1_pic.txt"
}
picture float352 352x352 fastestdet_3_float_352.jpg
picture q352 352x352 fastestdet_3_int8_352.jpg
picture float128 128x86 fastestdet_3_float_128x86.jpg
picture q128 128x86 fastestdet_3_int8_128x86.jpg
cat "$reference_jpg" >"$here/docs/fastestdet_3_reference_onnxruntime.jpg"
for f in "$here"/docs/fastestdet_3_*.jpg; do
  [ "$(stat -c %s "$f")" -lt 150000 ] || { echo "fastestdet_study: $f is 150 KB or more" >&2; exit 1; }
done
npy_payload() { # NPY OUT: the raw tensor bytes (format 1.0, header length at byte 8)
  local hl
  hl="$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')"
  tail -c +$((10 + hl + 1)) "$1" >"$2"
}
for v in float352 q352 float128 q128; do
  npy_payload "$work/${v}_in3.npy" "$work/${v}_in3.bin"
  npy_payload "$work/${v}_out3.npy" "$work/${v}_out3.bin"
done

# ---- host instructions per inference (callgrind: N = 1 minus N = 0, input images/3.jpg) ----
callgrind_total() { # MODEL N
  local out="$work/callgrind.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$build/bench_infer" "$work/$1.tflite" \
    "$2" "$work/$1_in3.bin" >/dev/null 2>"$work/callgrind.err"
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}
for v in float352 q352 float128 q128; do
  log "callgrind $v"
  if [ -n "$keep" ] && [ -s "$work/$v.host_instr" ]; then continue; fi
  base="$(callgrind_total "$v" 0)"
  one="$(callgrind_total "$v" 1)"
  echo $((one - base)) >"$work/$v.host_instr"
done

# ---- RV32IMC under QEMU: the int8 128x86 model on images/3.jpg ----
log "RV32 (nanoml deploy --target rv32-qemu)"
rv32_ok=yes
if ! "$cli" deploy "$work/q128.tflite" --target rv32-qemu --input "$work/q128_in3.bin" \
     --expect "$work/q128_out3.bin" --save-outputs "$work/rv32_out3.bin" --out "$work/rv32" \
     >"$work/rv32.log" 2>&1; then
  rv32_ok=no
fi
if [ "$rv32_ok" = yes ] && ! cmp -s "$work/rv32_out3.bin" "$work/q128_out3.bin"; then rv32_ok=no; fi
rl="$work/rv32.log"
rv32_instr="$(sed -n 's/^instructions per inference: \([0-9]*\).*/\1/p' "$rl")"
[ -n "$rv32_instr" ] || { cat "$rl" >&2; echo "fastestdet_study: RV32 run failed" >&2; exit 1; }
rv32_macs="$(awk '$1 == "total" { print $3 }' "$rl")"

# ---- the section ----
fmt3() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
bytes() { commas "$(stat -c %s "$work/$1.tflite")"; }
metrics() { # NAME -> "P | R | mAP50 | mAP50-95 | mAP50 64-127 | mAP50-95 64-127"
  echo "$(fmt3 "$(field "$1" all precision)") | $(fmt3 "$(field "$1" all recall)") |" \
       "$(fmt3 "$(field "$1" all mAP50)") | $(fmt3 "$(field "$1" all mAP50-95)") |" \
       "$(fmt3 "$(field "$1" rest64 mAP50)") | $(fmt3 "$(field "$1" rest64 mAP50-95)")"
}
inspect_field() { awk -v k="$2" '$1 == k { print $2; exit }' "$work/$1.inspect"; }
for v in float352 q352 float128 q128; do "$cli" inspect "$work/$v.tflite" >"$work/$v.inspect"; done
# What the int8 file holds (352x352): int8 weights and int32 biases of the 70 convolutions, one
# float32 scale per output channel for each weight and each bias tensor; the rest is structure.
read -r channels weights <<<"$(awk '$2 == "CONV_2D" || $2 == "DEPTHWISE_CONV_2D" {
    if (match($0, /int8 [0-9x]+, int32 [0-9]+/)) {
      split(substr($0, RSTART, RLENGTH), p, /[ ,]+/); n = split(p[2], d, "x"); e = 1
      for (i = 1; i <= n; i++) e *= d[i]; w += e; c += p[4] } }
    END { print c, w }' "$work/q352.inspect")"
file_bytes="$(stat -c %s "$work/q352.tflite")"
const_bytes="$(sed -n 's/^flash .*constant data \([0-9]*\) bytes.*/\1/p' "$work/q352.inspect" | head -1)"
[ -n "$const_bytes" ] || { echo "fastestdet_study: no constant data line in nanoml inspect's output" >&2; exit 1; }
float_map50="$(field float352 all mAP50)"
int8_map50="$(field q352 all mAP50)"
diff_points="$(awk -v a="$int8_map50" -v b="$float_map50" 'BEGIN { printf "%+.1f", 100 * (a - b) }')"
map_goal="$(awk -v d="$diff_points" 'BEGIN { print (d >= -2 ? "met" : "not met") }')"
size_goal="$(awk -v b="$file_bytes" 'BEGIN { print (b <= 270000 ? "met" : "not met") }')"
rv32_line() { sed -n "s/^  $1 *\([0-9]*\) B.*/\1/p" "$rl"; }
fit() { sed -n "s/^  LINKER=$1 .*-> \(.*\)$/\1/p" "$rl"; }
ram() { sed -n "s/^  LINKER=$1 *RAM *\([0-9]*\) B.*/\1/p" "$rl"; }
flash_of() { sed -n "s/^  LINKER=$1 .*flash *\([0-9]*\) B.*/\1/p" "$rl"; }
dets() { # NAME: the detections of the picture, one per line
  awk '/^  / { s = $0; sub(/^ +/, "", s); i = match(s, / +[0-9]+\.[0-9]+ +\[/)
              rest = substr(s, i); gsub(/ +/, " ", rest); printf "%s%s<br>", substr(s, 1, i - 1), rest }' \
    "$work/$1_pic.txt" | sed 's/<br>$//'
}
host() { commas "$(cat "$work/$1.host_instr")"; }
protocol="$(sed -n 's/^protocol //p' "$work/float352.eval")"
{
  echo "<!-- fastestdet-results:begin (generated by bench/fastestdet_study.sh; do not edit by hand) -->"
  echo
  echo "Generated $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) cores."
  echo "Protocol (\`nanoml eval-detect\` defaults for FastestDet): \`$protocol\`."
  echo "Calibration: coco128-val images 0-$((calib_count - 1)) ($calib_count images, \`nanoml preprocess\`),"
  echo "per-channel int8, calibrator \`$best\` (chosen below), int8 input and output."
  echo "\"64-127\": the held-out images, not used for calibration."
  echo
  echo "| model | input | bytes | precision | recall | mAP50 | mAP50-95 | mAP50 64-127 | mAP50-95 64-127 | host instr / inference | RV32 instr / inference |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| reference: ONNX Runtime, float (published figures) | 352x352 | $(commas "$(stat -c %s "$onnx")") | 0.599 | 0.395 | 0.342 | 0.188 | | | | |"
  echo "| ONNX float, imported, nanoml runtime | 352x352 | $(bytes float352) | $(metrics float352) | $(host float352) | |"
  echo "| int8 | 352x352 | $(bytes q352) | $(metrics q352) | $(host q352) | |"
  echo "| ONNX float, imported, nanoml runtime | 128x86 | $(bytes float128) | $(metrics float128) | $(host float128) | |"
  echo "| int8 | 128x86 | $(bytes q128) | $(metrics q128) | $(host q128) | $(commas "$rv32_instr") |"
  echo "| study: onnx2tf int8, random calibration | 128x86 | 0.42 MB | | | | | | | | |"
  echo
  echo "- **int8 mAP50 at 352x352: $(fmt3 "$int8_map50") vs $(fmt3 "$float_map50") float, $diff_points points** (goal: within 2 points): $map_goal."
  echo "- **int8 file: $(commas "$file_bytes") bytes** (goal: at most 270,000): $size_goal. It holds"
  echo "  $(commas "$weights") int8 weights, $(commas "$channels") int32 biases ($(commas $((4 * channels))) bytes) and"
  echo "  $(commas $((8 * channels))) bytes of per-channel float32 scales (one per output channel for the"
  echo "  weights and again for the biases); $(commas "$const_bytes") bytes of constants in all (with the"
  echo "  GATHER indices and PAD sizes), $(commas $((file_bytes - const_bytes))) bytes of structure and quantization parameters."
  echo "  Constants and the per-channel scales alone take $(commas $((const_bytes + 8 * channels))) bytes, so no"
  echo "  file with this quantization reaches 270,000. With every tensor name kept (\`--keep-names\`):"
  echo "  $(bytes q352_names) bytes."
  echo "- **RV32 output equals the host runtime's** on images/3.jpg (bytes compared): $rv32_ok."
  echo
  echo "**Calibration choices** (352x352, int8; the I/O type does not change the arithmetic, only the"
  echo "boundary operators: pixel/255 at scale 1/255 is exact in all three):"
  echo
  echo "| calibration images | calibrator | I/O | bytes | precision | recall | mAP50 | mAP50-95 | mAP50 64-127 | mAP50-95 64-127 |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in minmax percentile mse; do
    label="$c"
    [ "$c" = percentile ] && label="percentile 99.99"
    [ "$c" = "$best" ] && label="**$label** (chosen)"
    echo "| coco128-val 0-$((calib_count - 1)) | $label | int8 | $(bytes "q352_$c") | $(metrics "q352_$c") |"
  done
  echo "| coco128-val 0-127 (all: the evaluation images) | $best | int8 | $(bytes q352_all128) | $(metrics q352_all128) |"
  echo "| images/0-4.jpg (5 pictures outside coco128-val) | $best | int8 | $(bytes q352_out5) | $(metrics q352_out5) |"
  echo "| coco128-val 0-$((calib_count - 1)) | $best | uint8 | $(bytes q352_uint8) | $(metrics q352_uint8) |"
  echo "| coco128-val 0-$((calib_count - 1)) | $best | float32 | $(bytes q352_floatio) | $(metrics q352_floatio) |"
  echo
  echo "The calibrator is the one with the highest mAP50 on the held-out images 64-127."
  echo
  echo "**128x86: what the decoder's corrections do** (FastestDet learned box sizes at 352x352;"
  echo "\`nanoml detect\` and \`eval-detect\` scale them by 352/128 = 2.75 and 352/86 = 4.09 and count"
  echo "16-pixel grid cells, of which 86 rows hold 5.375, not 6; \`det_variants eval\` options in"
  echo "parentheses):"
  echo
  echo "| model | decoding | precision | recall | mAP50 | mAP50-95 | mAP50 64-127 | mAP50-95 64-127 |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| float, 128x86 | **default**: sizes x 2.75 x 4.09, 16-pixel cells | $(metrics float128) |"
  echo "| float, 128x86 | no size factor (\`--train-size 128 86\`, the decoding before) | $(metrics float128_nosize) |"
  echo "| float, 128x86 | grid spans the image (\`--stride 0\`) | $(metrics float128_nocells) |"
  echo "| float, 128x86 | sizes x 0.75 more (\`--box-scale 0.75 0.75\`) | $(metrics float128_x0.75) |"
  echo "| float, 128x86 | sizes x 1.25 more (\`--box-scale 1.25 1.25\`) | $(metrics float128_x1.25) |"
  echo "| int8, 128x86 | **default** | $(metrics q128) |"
  echo "| int8, 128x86 | no size factor (\`--train-size 128 86\`) | $(metrics q128_nosize) |"
  echo
  echo "**RV32IMC under QEMU** (int8 128x86, \`nanoml deploy --target rv32-qemu\`, firmware -Os,"
  echo "minstret with \`-icount shift=0\`, one inference of images/3.jpg):"
  echo
  echo "| instructions / inference | MACs | instr / MAC | setup instructions | arena (RV32) | .text | flash (.rodata, model) | stack peak |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| $(commas "$rv32_instr") | $(commas "$rv32_macs") | $(awk -v i="$rv32_instr" -v m="$rv32_macs" 'BEGIN { printf "%.1f", i / m }') |" \
       "$(commas "$(sed -n 's/^setup (load + init): \([0-9]*\).*/\1/p' "$rl")") |" \
       "$(commas "$(rv32_line arena)") | $(commas "$(rv32_line .text)") | $(commas "$(rv32_line .rodata)") |" \
       "$(commas "$(rv32_line stack)") |"
  echo
  echo "| X-HEEP LINKER mode | RAM bytes | flash bytes | smallest configuration |"
  echo "| --- | ---: | ---: | --- |"
  for m in on_chip flash_load flash_exec; do
    echo "| $m | $(commas "$(ram "$m")") | $(commas "$(flash_of "$m")") | $(fit "$m") |"
  done
  echo
  echo "Per operator kind (one hooked inference; each count includes dispatch and the hook):"
  echo
  echo "| operator | count | instructions | MACs | instr / MAC |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  awk '/^ +[0-9]+  [A-Z_0-9]+ +[0-9]+ +[0-9]+/ { n[$2]++; ins[$2] += $3; mac[$2] += $4 }
       END { for (k in n) printf "%d %s %d %d %d\n", ins[k], k, n[k], ins[k], mac[k] }' "$rl" |
    sort -rn | while read -r _ k n ins mac; do
      ratio=""
      [ "$mac" -gt 0 ] && ratio="$(awk -v i="$ins" -v m="$mac" 'BEGIN { printf "%.1f", i / m }')"
      echo "| $k | $n | $(commas "$ins") | $(commas "$mac") | $ratio |"
    done
  echo
  echo "**Detections on images/3.jpg** (\`nanoml detect\`: score > 0.65, per-class NMS IoU 0.45):"
  echo
  echo "| ONNX Runtime (the author's picture) | float 352x352 | int8 352x352 |"
  echo "| --- | --- | --- |"
  echo "| ![reference](fastestdet_3_reference_onnxruntime.jpg) | ![float 352](fastestdet_3_float_352.jpg) | ![int8 352](fastestdet_3_int8_352.jpg) |"
  echo "| | $(dets float352) | $(dets q352) |"
  echo
  echo "| float 128x86 | int8 128x86 |"
  echo "| --- | --- |"
  echo "| ![float 128x86](fastestdet_3_float_128x86.jpg) | ![int8 128x86](fastestdet_3_int8_128x86.jpg) |"
  echo "| $(dets float128) | $(dets q128) |"
  echo
  echo "<!-- fastestdet-results:end -->"
} >"$work/section.md"

splice_doc_section "$doc" fastestdet-results "$work/section.md" FastestDet
log "wrote $doc and docs/fastestdet_3_*.jpg"
cat "$work/section.md"
[ "$rv32_ok" = yes ] || { echo "fastestdet_study: RV32 output differs from the host's" >&2; exit 1; }
