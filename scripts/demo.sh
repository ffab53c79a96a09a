#!/usr/bin/env bash
# The whole nanoml study in one command: installs what a fresh Debian 12 machine needs
# (scripts/setup.sh), builds (scripts/build.sh), then chains nanoml CLI commands in five steps and
# writes report/index.md and a self-contained report/index.html:
#   train       LeNet-5 on Fashion-MNIST in the three definition styles; test accuracy
#   compress    PTQ, pruning, clustering, QAT and their combinations (PCQAT); size/accuracy
#               table and Pareto plot (nanoml compare)
#   fastestdet  FastestDet: ONNX import, check against ONNX Runtime, int8 with real calibration
#               images, detections on images/3.jpg at 352x352 and 128x86, mAP on coco128-val
#   deploy      int8 LeNet-5 and FastestDet 128x86 as C arrays and as RV32IMC firmware under
#               QEMU: instructions per inference and per layer, flash/RAM, X-HEEP fit; an X-HEEP
#               application folder
#   report      report/index.md and report/index.html (nanoml plot bars, nanoml report)
# Every result stays in demo-out/<step>/; a rerun reuses each step whose inputs (files,
# parameters, the nanoml binary, the step's commands) did not change.
#
# usage: scripts/demo.sh [--full] [--force] [--only STEP] [--list] [--work DIR] [--report DIR]
#                        [--no-setup]
#   --full       the full-length study (10 training epochs, longer fine-tuning, every
#                compression combination) instead of the short default
#   --force      redo every step
#   --only STEP  run one step (earlier steps' results must exist)
#   --list       list the steps
#   --work DIR   where step results go (default demo-out)
#   --report DIR where the report goes (default report)
#   --no-setup   skip scripts/setup.sh and scripts/build.sh; use build/nanoml (or $NANOML)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${NML_SHARED_DIR:-$here/../shared}"
shared="$(cd "$shared" 2>/dev/null && pwd || echo "$shared")"
full=0
setup=1
DEMO_WORK="$here/demo-out"
report_dir="$here/report"
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1; shift ;;
    --force) DEMO_FORCE=1; shift ;;
    --only) DEMO_ONLY="${2:?--only needs a step name}"; shift 2 ;;
    --list) DEMO_LIST=1; shift ;;
    --work) DEMO_WORK="$(realpath -m "${2:?}")"; shift 2 ;;
    --report) report_dir="$(realpath -m "${2:?}")"; shift 2 ;;
    --no-setup) setup=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
source "$here/scripts/demo_lib.sh"
DEMO_DIR_NAME() { if [ "$1" = report ]; then echo "$report_dir"; else echo "$DEMO_WORK/$1"; fi; }

if [ "${DEMO_LIST:-0}" != 1 ]; then
  if [ "$setup" = 1 ]; then
    "$here/scripts/setup.sh"
    "$here/scripts/build.sh" "$here/build"
  fi
  for f in "$shared/models/fastestdet/FastestDet.onnx" "$shared/datasets/coco128-val/images"; do
    [ -e "$f" ] || { echo "demo: $f missing (set NML_SHARED_DIR to the shared data folder)" >&2; exit 1; }
  done
fi
nanoml="${NANOML:-$here/build/nanoml}" # NANOML: another nanoml binary (with --no-setup)
DEMO_TOOL="$nanoml"
oracles="$here/tests/oracles"
fmnist="/usr/share/datasets/fashion-mnist"
onnx="$shared/models/fastestdet/FastestDet.onnx"
coco="$shared/datasets/coco128-val"
picture="$shared/images/3.jpg"
reference_jpg="$shared/models/fastestdet/reference-result-onnxruntime.jpg"
export NML_SHARED_DIR="$shared"
mkdir -p "$DEMO_WORK"

# ---- settings: the short default and --full ----
if [ "$full" = 1 ]; then
  epochs=10      # docs/training.md's protocol
  tune_epochs=2  # fine-tuning after pruning / clustering
  qat_epochs=1
  calib=1000     # Fashion-MNIST calibration images (LeNet-5)
  det_calib=64   # coco128-val calibration images (FastestDet; 64-127 stay held out)
else
  epochs=2
  tune_epochs=1
  qat_epochs=1
  calib=500
  det_calib=64
fi
mode="$([ "$full" = 1 ] && echo full || echo default)"

# ---- helpers (used inside steps) ----
acc_of() { sed -n 's/.*: accuracy \([0-9.]*\)%.*/\1/p' "$1" | head -n1; }
json_num() { sed -n "s/.*\"$2\": \([-0-9.e]*\).*/\1/p" "$1"; }
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
# logged FILE COMMAND...: runs COMMAND with its output in FILE, then shows it; a failure names
# the command itself (not the `tee` a pipeline would end with)
logged() {
  local f="$1" s=0
  shift
  "$@" >"$f" || s=$?
  cat "$f"
  if [ "$s" -ne 0 ]; then printf '%s\n%s\n' "$s" "$*" >"$out/.failed"; return "$s"; fi
}
npy_payload() { # NPY OUT: the raw tensor bytes (format 1.0; header length at byte 8)
  local hl
  hl="$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')"
  tail -c +$((10 + hl + 1)) "$1" >"$2"
}

# ---- 1. training ----
step_train() {
  local s
  for s in sequential functional custom; do
    echo "-- nanoml train lenet5 --style $s --epochs $epochs"
    logged "$out/train_$s.txt" "$nanoml" train lenet5 --style "$s" --epochs "$epochs" \
      --out "$out/lenet5_$s.tflite"
    "$nanoml" eval "$out/lenet5_$s.tflite" >"$out/eval_$s.txt"
    sed -n 1p "$out/eval_$s.txt"
  done
  echo "test accuracy: sequential $(acc_of "$out/eval_sequential.txt")%," \
    "functional $(acc_of "$out/eval_functional.txt")%, custom $(acc_of "$out/eval_custom.txt")%" \
    >"$out/summary.txt"
}

# ---- 2. compression ----
# name|label|command (run with $base, $out, $tune...; writes $out/NAME.tflite)
compress_rows() {
  local ft="--epochs $tune_epochs --lr 1e-3 --quiet" qt="--epochs $qat_epochs --quiet"
  local cal="--calib fashion-mnist:$calib"
  cat <<EOF
float32|float32 baseline|cp "\$base" "\$out/float32.tflite"
ptq_float16|PTQ float16|"\$nanoml" quantize "\$base" --mode float16 --quiet --out "\$out/ptq_float16.tflite"
ptq_dynamic|PTQ dynamic range|"\$nanoml" quantize "\$base" --mode dynamic --quiet --out "\$out/ptq_dynamic.tflite"
ptq_int8|PTQ int8 (float I/O)|"\$nanoml" quantize "\$base" --mode int8 $cal --quiet --out "\$out/ptq_int8.tflite"
ptq_int8_io8|PTQ int8, int8 I/O|"\$nanoml" quantize "\$base" --mode int8 $cal --io int8 --quiet --out "\$out/ptq_int8_io8.tflite"
ptq_int4|PTQ int4 weights|"\$nanoml" quantize "\$base" --mode int4 $cal --quiet --out "\$out/ptq_int4.tflite"
qat|QAT int8|"\$nanoml" qat "\$base" $qt --out "\$out/qat.tflite"
prune50|pruning 50%|"\$nanoml" prune "\$base" --sparsity 0.5 $ft --out "\$out/prune50.tflite"
prune80|pruning 80%|"\$nanoml" prune "\$base" --sparsity 0.8 $ft --out "\$out/prune80.tflite"
cluster16|clustering 16|"\$nanoml" cluster "\$base" --clusters 16 $ft --out "\$out/cluster16.tflite"
prune80_int8|pruning 80% + int8|"\$nanoml" prune "\$base" --sparsity 0.8 $ft --quantize int8 $cal --out "\$out/prune80_int8.tflite"
cluster16_int8|clustering 16 + int8|"\$nanoml" cluster "\$base" --clusters 16 $ft --quantize int8 $cal --out "\$out/cluster16_int8.tflite"
pcqat|PCQAT: 50% + 16 clusters + QAT int8|"\$nanoml" compress "\$base" --step "prune sparsity=0.5 epochs=$tune_epochs lr=1e-3" --step "cluster clusters=16 preserve=sparsity epochs=$tune_epochs lr=1e-3" --step "qat preserve=sparsity,clusters epochs=$qat_epochs" --quiet --out "\$out/pcqat.tflite"
EOF
  if [ "$full" = 1 ]; then
    cat <<EOF
prune24|pruning 2:4|"\$nanoml" prune "\$base" --structure 2:4 $ft --out "\$out/prune24.tflite"
filters|filter pruning 50% + removal|"\$nanoml" prune "\$base" --structure filters --sparsity 0.5 --skip c1 $ft --out "\$out/filters.tflite"
cluster8|clustering 8, linear init|"\$nanoml" cluster "\$base" --clusters 8 --init linear $ft --out "\$out/cluster8.tflite"
ppc|pruning-preserving clustering|"\$nanoml" compress "\$base" --step "prune sparsity=0.5 epochs=$tune_epochs lr=1e-3" --step "cluster clusters=16 preserve=sparsity epochs=$tune_epochs lr=1e-3" --quiet --out "\$out/ppc.tflite"
sqat|sparsity-preserving QAT|"\$nanoml" compress "\$base" --step "prune sparsity=0.5 epochs=$tune_epochs lr=1e-3" --step "qat preserve=sparsity epochs=$qat_epochs" --quiet --out "\$out/sqat.tflite"
cqat|cluster-preserving QAT|"\$nanoml" compress "\$base" --step "cluster clusters=16 epochs=$tune_epochs lr=1e-3" --step "qat preserve=clusters epochs=$qat_epochs" --quiet --out "\$out/cqat.tflite"
EOF
  fi
}

step_compress() {
  local base="$DEMO_WORK/train/lenet5_sequential.tflite" name label cmd
  local models=() labels=()
  [ -f "$base" ] || { echo "compress: $base missing (run the train step)" >&2; return 1; }
  local c
  for c in prune cluster qat compress compare; do
    "$nanoml" "$c" --help >/dev/null 2>&1 ||
      { echo "compress: this nanoml has no '$c' command (build the compression CLI)" >&2; return 1; }
  done
  : >"$out/commands.txt"
  while IFS='|' read -r name label cmd; do
    echo "-- $label"
    sed 's|"\$nanoml"|nanoml|; s|"\$base"|lenet5.tflite|g; s|"\$out/\([^"]*\)"|\1|g' <<<"$cmd" >>"$out/commands.txt"
    eval "$cmd"
    models+=("$out/$name.tflite")
    labels+=("$label")
  done < <(compress_rows)
  echo "-- nanoml compare (${#models[@]} models, accuracy on the 10,000 test images)"
  logged "$out/compare.txt" "$nanoml" compare "${models[@]}" --labels "${labels[@]}" \
    --md "$out/table.md" --csv "$out/table.csv" --plot "$out/pareto.png" --log-x \
    --title "LeNet-5 on Fashion-MNIST: file size vs accuracy"
  local f32 pc
  f32="$(stat -c %s "$out/float32.tflite")"
  pc="$(stat -c %s "$out/pcqat.tflite")"
  echo "${#models[@]} models; PCQAT $(commas "$pc") B vs float32 $(commas "$f32") B" \
    "($(awk -v a="$f32" -v b="$pc" 'BEGIN { printf "%.1fx", a / b }') smaller)" >"$out/summary.txt"
}

# ---- 3. FastestDet ----
step_fastestdet() {
  echo "-- nanoml import (352x352 and 128x86)"
  logged "$out/import_352.txt" "$nanoml" import "$onnx" --out "$out/float_352.tflite"
  "$nanoml" import "$onnx" --input-shape 1x3x86x128 --out "$out/float_128x86.tflite" \
    >"$out/import_128x86.txt"
  echo "-- check against ONNX Runtime (images/3.jpg, 352x352)"
  "$nanoml" detect "$out/float_352.tflite" --image "$picture" --save-input "$out/ort_in.npy" \
    --save-output "$out/ort_out.npy" >/dev/null
  if [ -d "$oracles/node_modules/onnxruntime-node" ]; then
    logged "$out/ort_check.txt" node "$oracles/ort_check_nhwc.mjs" "$onnx" "$out/ort_in.npy" \
      "$out/ort_out.npy"
  else
    echo "skipped: onnxruntime-node is not installed (scripts/setup.sh installs it)" |
      tee "$out/ort_check.txt"
  fi
  local size s
  for size in 352 128x86; do
    s="$([ "$size" = 352 ] && echo 352x352 || echo 128x86)"
    echo "-- calibration: coco128-val images 0-$((det_calib - 1)) at $s (nanoml preprocess)"
    "$nanoml" preprocess "$out/float_$size.tflite" --dataset "$coco" --limit "$det_calib" \
      --out "$out/calib_$size" --quiet
    echo "-- nanoml quantize int8 ($s)"
    "$nanoml" quantize "$out/float_$size.tflite" --calib "npy:$out/calib_$size" --io int8 \
      --quiet --out "$out/int8_$size.tflite"
    rm -rf "$out/calib_$size"
  done
  local m
  for m in float_352 int8_352 float_128x86 int8_128x86; do
    echo "-- nanoml detect $m images/3.jpg"
    logged "$out/detect_$m.txt" "$nanoml" detect "$out/$m.tflite" --image "$picture" \
      --out "$out/det_$m.jpg" --save-input "$out/in3_$m.npy" --save-output "$out/out3_$m.npy"
  done
  cp "$reference_jpg" "$out/det_reference_onnxruntime.jpg"
  for m in float_352 int8_352 float_128x86 int8_128x86; do
    echo "-- nanoml eval-detect $m (coco128-val, 128 images)"
    "$nanoml" eval-detect "$out/$m.tflite" --dataset "$coco" --json >"$out/eval_$m.json"
    echo "   mAP50 $(json_num "$out/eval_$m.json" mAP50), mAP50-95 $(json_num "$out/eval_$m.json" mAP50_95)"
  done
  local r3='{ printf "%.3f", $1 }'
  echo "mAP50 352x352: float $(json_num "$out/eval_float_352.json" mAP50 | awk "$r3")," \
    "int8 $(json_num "$out/eval_int8_352.json" mAP50 | awk "$r3"); 128x86 int8" \
    "$(json_num "$out/eval_int8_128x86.json" mAP50 | awk "$r3")" >"$out/summary.txt"
}

# ---- 4. firmware ----
# LeNet-5 int8 inputs: the first N Fashion-MNIST test images, scaled to [0, 1], centred in 32x32
# and quantized with the model's input scale and zero point (as nanoml eval feeds them).
lenet_inputs() { # MODEL N OUT.bin
  local line scale zp
  line="$("$nanoml" inspect "$1" | grep -E '^inputs +0: int8 1x32x32x1 ')"
  scale="$(sed -n 's/.*scale \([0-9.e+-]*\), zero point \(-*[0-9]*\)).*/\1/p' <<<"$line")"
  zp="$(sed -n 's/.*scale \([0-9.e+-]*\), zero point \(-*[0-9]*\)).*/\2/p' <<<"$line")"
  [ -n "$scale" ] && [ -n "$zp" ] || { echo "no int8 input quantization in: $line" >&2; return 1; }
  # od stops reading early, so gzip may end on SIGPIPE: not an error here (pipefail)
  { gzip -dc "$fmnist/t10k-images-idx3-ubyte.gz" || true; } | od -An -tu1 -v -j16 -N$((784 * $2)) |
    LC_ALL=C awk -v s="$scale" -v z="$zp" -v n="$2" '
      { for (i = 1; i <= NF; i++) px[k++] = $i }
      function q(v,   r) { r = v / s; r = (r < 0 ? -int(-r + 0.5) : int(r + 0.5)) + z
                           if (r < -128) r = -128; if (r > 127) r = 127; return r < 0 ? r + 256 : r }
      END { for (im = 0; im < n; im++) for (y = 0; y < 32; y++) for (x = 0; x < 32; x++) {
              v = (y < 2 || y >= 30 || x < 2 || x >= 30) ? 0 : px[im * 784 + (y - 2) * 28 + x - 2] / 255
              printf "%c", q(v) } }' >"$3"
}

# Instructions per layer from a deploy report, as "VALUE LABEL" lines for nanoml plot bars.
layer_bars() { awk '/^ +[0-9]+  [A-Z_0-9]+ +[0-9]+ +[0-9]+/ { print $3, $1, $2 }' "$1"; }
kind_bars() {
  awk '/^ +[0-9]+  [A-Z_0-9]+ +[0-9]+ +[0-9]+/ { s[$2] += $3; n[$2]++ }
       END { for (k in s) print s[k], k " (" n[k] ")" }' "$1" | sort -rn
}

step_deploy() {
  local lenet="$DEMO_WORK/compress/ptq_int8_io8.tflite" fd="$DEMO_WORK/fastestdet/int8_128x86.tflite"
  local fdw="$DEMO_WORK/fastestdet"
  for f in "$lenet" "$fd"; do [ -f "$f" ] || { echo "deploy: $f missing" >&2; return 1; }; done
  cp "$lenet" "$out/lenet5_int8.tflite"
  cp "$fd" "$out/fastestdet_int8_128x86.tflite"
  echo "-- nanoml export (C arrays)"
  logged "$out/export_lenet5.txt" "$nanoml" export "$out/lenet5_int8.tflite" --name lenet5_int8 \
    --out "$out/c"
  logged "$out/export_fastestdet.txt" "$nanoml" export "$out/fastestdet_int8_128x86.tflite" \
    --name fastestdet_int8 --out "$out/c"

  echo "-- LeNet-5 int8 on RV32IMC (QEMU): 5 test images, outputs compared with the host runtime"
  lenet_inputs "$out/lenet5_int8.tflite" 5 "$out/lenet5_in.bin"
  : >"$out/lenet5_host.bin"
  local i
  for i in 0 1 2 3 4; do
    # one image without a pipe (a reader that stops early may fail its writer under pipefail)
    dd if="$out/lenet5_in.bin" of="$out/one.bin" bs=1024 skip="$i" count=1 status=none
    "$nanoml" run "$out/lenet5_int8.tflite" --input "$out/one.bin" --output "$out/one_out.bin" >/dev/null
    cat "$out/one_out.bin" >>"$out/lenet5_host.bin"
  done
  rm -f "$out/one.bin" "$out/one_out.bin"
  logged "$out/deploy_lenet5.txt" "$nanoml" deploy "$out/lenet5_int8.tflite" --target rv32-qemu \
    --input "$out/lenet5_in.bin" --expect "$out/lenet5_host.bin" --out "$out/fw_lenet5"

  echo "-- FastestDet int8 128x86 on RV32IMC (QEMU): images/3.jpg, compared with the host runtime"
  npy_payload "$fdw/in3_int8_128x86.npy" "$out/fastestdet_in.bin"
  npy_payload "$fdw/out3_int8_128x86.npy" "$out/fastestdet_host.bin"
  logged "$out/deploy_fastestdet.txt" "$nanoml" deploy "$out/fastestdet_int8_128x86.tflite" \
    --target rv32-qemu --timeout 600 --input "$out/fastestdet_in.bin" \
    --expect "$out/fastestdet_host.bin" --out "$out/fw_fastestdet"
  rm -rf "$out/fw_lenet5/obj" "$out/fw_fastestdet/obj" # objects only; firmware.elf and gen/ stay

  # the smallest X-HEEP configuration the measured firmware fits with everything in RAM
  local target
  target="$(sed -n 's/^  LINKER=on_chip .*-> \(xheep-[0-9]*k\) .*/\1/p' "$out/deploy_lenet5.txt")"
  [ -n "$target" ] || { echo "deploy: LeNet-5 fits no X-HEEP configuration on chip" >&2; return 1; }
  echo "-- X-HEEP application folder (LeNet-5 int8, $target)"
  logged "$out/xheep_lenet5.txt" "$nanoml" deploy "$out/lenet5_int8.tflite" --target "$target" \
    --out "$out/xheep_lenet5"
  echo "$target" >"$out/xheep_target.txt"

  echo "-- per-layer instruction charts (nanoml plot bars)"
  layer_bars "$out/deploy_lenet5.txt" >"$out/bars_lenet5.txt"
  layer_bars "$out/deploy_fastestdet.txt" >"$out/bars_fastestdet.txt"
  kind_bars "$out/deploy_fastestdet.txt" >"$out/bars_fastestdet_kinds.txt"
  "$nanoml" plot bars "$out/bars_lenet5.txt" --out "$out/bars_lenet5.png" \
    --title "LeNet-5 int8 on RV32IMC: instructions per layer" --x-label "instructions"
  "$nanoml" plot bars "$out/bars_fastestdet_kinds.txt" --out "$out/bars_fastestdet_kinds.png" \
    --title "FastestDet int8 128x86 on RV32IMC: instructions per operator kind (layers)" \
    --x-label "instructions"
  "$nanoml" plot bars "$out/bars_fastestdet.txt" --out "$out/bars_fastestdet.png" --bar-height 10 \
    --title "FastestDet int8 128x86 on RV32IMC: instructions per layer" --x-label "instructions"
  local li fi
  li="$(sed -n 's/^instructions per inference: \([0-9]*\).*/\1/p' "$out/deploy_lenet5.txt")"
  fi="$(sed -n 's/^instructions per inference: \([0-9]*\).*/\1/p' "$out/deploy_fastestdet.txt")"
  echo "RV32 instructions/inference: LeNet-5 $(commas "$li"), FastestDet 128x86 $(commas "$fi")" \
    >"$out/summary.txt"
}

# ---- 5. the report ----
# shellcheck source=scripts/demo_report.sh
source "$here/scripts/demo_report.sh"

demo_step train "LeNet-5 on Fashion-MNIST, three definition styles ($epochs epochs each)" \
  step_train "$fmnist" "epochs=$epochs"
demo_step compress "compression: PTQ, pruning, clustering, QAT, combinations; table and plot" \
  step_compress "$DEMO_WORK/train/lenet5_sequential.tflite" "$fmnist" \
  "rows=$(compress_rows | sha256sum | cut -c1-16)"
demo_step fastestdet "FastestDet: import, ONNX Runtime check, int8, detections, mAP" \
  step_fastestdet "$onnx" "$coco" "$picture" "$reference_jpg" "$oracles/ort_check_nhwc.mjs" \
  "det_calib=$det_calib"
demo_step deploy "C arrays, RV32IMC firmware under QEMU, X-HEEP fit and application" \
  step_deploy "$DEMO_WORK/compress/ptq_int8_io8.tflite" "$DEMO_WORK/fastestdet/int8_128x86.tflite" \
  "$DEMO_WORK/fastestdet/in3_int8_128x86.npy" "$here/src/runtime" "$here/firmware" "$fmnist"
demo_step report "report/index.md and the self-contained report/index.html" \
  step_report "$DEMO_WORK/train" "$DEMO_WORK/compress" "$DEMO_WORK/fastestdet" "$DEMO_WORK/deploy" \
  "mode=$mode"
demo_summary
if [ "${DEMO_LIST:-0}" != 1 ] && [ -f "$report_dir/index.html" ]; then
  printf '
report: %s (Markdown: %s)
' "$report_dir/index.html" "$report_dir/index.md"
fi
