#!/usr/bin/env bash
# The LeNet-5 / Fashion-MNIST compression study: trains the float baseline, applies every
# compression technique with the nanoml CLI (each fine-tuning briefly), evaluates every final
# .tflite on the 10,000 test images in nanoml's runtime (`nanoml eval`), and writes the table
# between the study markers of docs/compression.md.
#
#   bench/compression_study.sh [--build DIR] [--work DIR] [--doc FILE]
#                              [--base-epochs N] [--prune-epochs N] [--cluster-epochs N]
#                              [--qat-epochs N] [--lr X] [--qat-lr X] [--calib N]
#
# Defaults: 10 baseline epochs (`nanoml train lenet5` as documented in docs/training.md),
# 2 pruning epochs, 1 clustering epoch, 1 QAT epoch, fine-tuning lr 1e-3 (prune, cluster) and
# 1e-4 (QAT), 1000 calibration images. Models stay in the work folder (build/compression_study).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
work=""
doc="$here/docs/compression.md"
base_epochs=10
prune_epochs=2
cluster_epochs=1
qat_epochs=1
lr=1e-3
qat_lr=1e-4
calib=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --doc) doc="$2"; shift 2 ;;
    --base-epochs) base_epochs="$2"; shift 2 ;;
    --prune-epochs) prune_epochs="$2"; shift 2 ;;
    --cluster-epochs) cluster_epochs="$2"; shift 2 ;;
    --qat-epochs) qat_epochs="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --qat-lr) qat_lr="$2"; shift 2 ;;
    --calib) calib="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "compression_study.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work="${work:-$build/compression_study}"
nanoml="$build/nanoml"
rowtool="$build/compression_row"
for exe in "$nanoml" "$rowtool"; do
  [ -x "$exe" ] || { echo "compression_study.sh: build first ($exe missing)" >&2; exit 1; }
done
mkdir -p "$work"
log="$work/study.log"
: > "$log"
started=$(date +%s)

say() { printf '%s\n' "$*" >&2; }
run() { # run LABEL CMD... : logs the command and its output
  say "== $1"
  shift
  printf '\n$ %s\n' "$*" >> "$log"
  "$@" >> "$log" 2>&1 || { say "failed: $* (see $log)"; tail -5 "$log" >&2; exit 1; }
}
accuracy() {
  "$nanoml" eval "$1" | sed -n 's/.*: accuracy \([0-9.]*\)%.*/\1/p'
}

tune="--quiet --lr $lr"
qtune="--quiet --lr $qat_lr --epochs $qat_epochs"

# ---- the models ----
run "baseline: $base_epochs epochs" "$nanoml" train lenet5 --epochs "$base_epochs" --out "$work/float.tflite"
run "fine-tuning control" "$nanoml" prune "$work/float.tflite" --sparsity 0 --epochs "$prune_epochs" $tune --out "$work/control.tflite"
run "float16" "$nanoml" quantize "$work/float.tflite" --mode float16 --quiet --out "$work/ptq_f16.tflite"
run "dynamic" "$nanoml" quantize "$work/float.tflite" --mode dynamic --quiet --out "$work/ptq_dyn.tflite"
run "int8" "$nanoml" quantize "$work/float.tflite" --calib "fashion-mnist:$calib" --quiet --out "$work/ptq_int8.tflite"
run "int8 per-tensor" "$nanoml" quantize "$work/float.tflite" --calib "fashion-mnist:$calib" --per-tensor --io int8 --quiet --out "$work/ptq_int8_pt.tflite"
run "int4" "$nanoml" quantize "$work/float.tflite" --mode int4 --calib "fashion-mnist:$calib" --quiet --out "$work/ptq_int4.tflite"
run "qat" "$nanoml" qat "$work/float.tflite" $qtune --out "$work/qat.tflite"
run "prune 50%" "$nanoml" prune "$work/float.tflite" --sparsity 0.5 --epochs "$prune_epochs" $tune --out "$work/prune50.tflite"
run "prune 50% constant" "$nanoml" prune "$work/float.tflite" --sparsity 0.5 --schedule constant --epochs "$prune_epochs" $tune --out "$work/prune50c.tflite"
run "prune 80%" "$nanoml" prune "$work/float.tflite" --sparsity 0.82 --layers c1:0.3,c3:0.6,output:0.5 --epochs "$prune_epochs" $tune --out "$work/prune80.tflite"
run "prune 2:4" "$nanoml" prune "$work/float.tflite" --structure 2:4 --epochs "$prune_epochs" $tune --out "$work/prune24.tflite"
run "prune filters" "$nanoml" prune "$work/float.tflite" --structure filters --sparsity 0.5 --skip c1 --epochs "$prune_epochs" $tune --out "$work/filters.tflite"
run "cluster 16" "$nanoml" cluster "$work/float.tflite" --clusters 16 --epochs "$cluster_epochs" $tune --out "$work/cluster16.tflite"
run "cluster 8 linear" "$nanoml" cluster "$work/float.tflite" --clusters 8 --init linear --epochs "$cluster_epochs" $tune --out "$work/cluster8.tflite"
run "cluster 32 density" "$nanoml" cluster "$work/float.tflite" --clusters 32 --init density --epochs "$cluster_epochs" $tune --out "$work/cluster32.tflite"
run "pruning-preserving clustering" "$nanoml" cluster "$work/prune50.tflite" --clusters 16 --preserve sparsity --epochs "$cluster_epochs" $tune --out "$work/ppc.tflite"
run "sparsity-preserving qat" "$nanoml" qat "$work/prune50.tflite" --preserve sparsity $qtune --out "$work/sqat.tflite"
run "cluster-preserving qat" "$nanoml" qat "$work/cluster16.tflite" --preserve clusters $qtune --out "$work/cqat.tflite"
run "pcqat" "$nanoml" qat "$work/ppc.tflite" --preserve sparsity,clusters $qtune --out "$work/pcqat.tflite"
run "80% + int8" "$nanoml" quantize "$work/prune80.tflite" --calib "fashion-mnist:$calib" --quiet --out "$work/prune80_int8.tflite"

# ---- the table ----
# name | how (the commands are in the work folder's study.log) | file
rows=(
  "float32 baseline|\`nanoml train lenet5\`, $base_epochs epochs|float.tflite"
  "fine-tuning control (no compression)|+$prune_epochs epochs at lr $lr, as the pruning rows|control.tflite"
  "PTQ float16|\`quantize --mode float16\`|ptq_f16.tflite"
  "PTQ dynamic range|\`quantize --mode dynamic\`|ptq_dyn.tflite"
  "PTQ int8|per-channel, float I/O, $calib Fashion-MNIST images|ptq_int8.tflite"
  "PTQ int8, per-tensor, int8 I/O|\`--per-tensor --io int8\`|ptq_int8_pt.tflite"
  "PTQ int4 weights|int4 weights, int8 activations|ptq_int4.tflite"
  "QAT int8|$qat_epochs epoch, lr $qat_lr|qat.tflite"
  "pruning 50%, polynomial|PolynomialDecay 0 -> 0.5, power 3, every 100 steps|prune50.tflite"
  "pruning 50%, constant|ConstantSparsity 0.5 from step 0|prune50c.tflite"
  "pruning 80%, per-layer targets|c1 0.3, c3 0.6, c5 0.82, f6 0.82, output 0.5|prune80.tflite"
  "pruning 2:4|2 of every 4 weights along each kernel row|prune24.tflite"
  "filter pruning 50% + removal|c3, c5, f6 lose half their channels|filters.tflite"
  "clustering 16, k-means++|centroids trained $cluster_epochs epoch|cluster16.tflite"
  "clustering 8, linear init||cluster8.tflite"
  "clustering 32, density init||cluster32.tflite"
  "pruning-preserving clustering|50% sparse (row 9) + 16 clusters incl. 0|ppc.tflite"
  "sparsity-preserving QAT|row 9 + QAT int8|sqat.tflite"
  "cluster-preserving QAT|row 14 + QAT int8, per-tensor weights|cqat.tflite"
  "PCQAT: int8 + 50% + 16 clusters|row 17 + QAT int8, per-tensor weights|pcqat.tflite"
  "pruning 80% + PTQ int8|row 11 + \`quantize\`|prune80_int8.tflite"
)
say "== evaluating ${#rows[@]} models"
declare -A acc bytes gz packed params zeros weights distinct
for r in "${rows[@]}"; do
  f="${r##*|}"
  read -r b dense p prm w z d < <("$rowtool" "$work/$f")
  bytes[$f]=$dense; packed[$f]=$p; params[$f]=$prm; weights[$f]=$w; zeros[$f]=$z; distinct[$f]=$d
  gz[$f]=$(gzip -9 -c "$work/$f" | wc -c)
  acc[$f]=$(accuracy "$work/$f")
  say "   $f: ${acc[$f]}%"
done
base_acc=${acc[float.tflite]}
base_bytes=${bytes[float.tflite]}
elapsed=$(( $(date +%s) - started ))

ratio() { awk -v a="$base_bytes" -v b="$1" 'BEGIN { printf "%.2fx", a / b }'; }
delta() { awk -v a="$1" -v b="$base_acc" 'BEGIN { printf "%+.2f", a - b }'; }
pct() { awk -v z="$1" -v w="$2" 'BEGIN { printf "%.1f%%", w ? 100 * z / w : 0 }'; }
table() {
  echo "| # | technique | settings | file bytes | smaller | gzip bytes | packed bytes | parameters | zero weights | values per layer | accuracy | change |"
  echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  local i=0
  for r in "${rows[@]}"; do
    i=$((i + 1))
    IFS='|' read -r name how f <<< "$r"
    local p="${packed[$f]}"
    [ "$p" = "-" ] && p="n/a" || p="$p ($(ratio "$p"))"
    echo "| $i | $name | $how | ${bytes[$f]} | $(ratio "${bytes[$f]}") | ${gz[$f]} | $p | ${params[$f]} | $(pct "${zeros[$f]}" "${weights[$f]}") | ${distinct[$f]} | ${acc[$f]}% | $(delta "${acc[$f]}") |"
  done
}
verdict() { # verdict CONDITION-TEXT AWK-EXPR
  awk "BEGIN { exit !($2) }" && echo "met ($1)" || echo "**not met** ($1)"
}
goals() {
  local d r
  d=$(delta "${acc[ptq_int8.tflite]}"); r=$(ratio "${bytes[ptq_int8.tflite]}")
  echo "- int8 PTQ (row 5): accuracy $d points: $(verdict "goal: at most 0.5 points lost" "$d >= -0.5");"
  echo "  size $r: $(verdict "goal: at least 3.5x smaller" "${r%x} >= 3.5"). Per-tensor weights with int8 I/O (row 6): $(ratio "${bytes[ptq_int8_pt.tflite]}"), $(delta "${acc[ptq_int8_pt.tflite]}") points."
  d=$(delta "${acc[prune80.tflite]}")
  echo "- 80% unstructured sparsity with fine-tuning (row 11, $(pct "${zeros[prune80.tflite]}" "${weights[prune80.tflite]}") of the weights zero): $d points: $(verdict "goal: at most 1 point lost" "$d >= -1")."
  d=$(delta "${acc[cluster16.tflite]}")
  echo "- 16 clusters (row 14): $d points: $(verdict "goal: at most 1 point lost" "$d >= -1")."
  d=$(delta "${acc[pcqat.tflite]}")
  echo "- PCQAT, int8 + 50% sparsity + 16 clusters (row 20): $d points: $(verdict "goal: at most 1.5 points lost" "$d >= -1.5");"
  if [ "${packed[pcqat.tflite]}" = "-" ]; then
    echo "  flash: the weight packer (pack.h) is not in this build, so the flash size is the dense file, $(ratio "${bytes[pcqat.tflite]}") smaller than float: **not met** (goal: at least 8x); gzip gets $(ratio "${gz[pcqat.tflite]}") out of the same bytes, which is the redundancy a packed encoding can remove."
  else
    r=$(ratio "${packed[pcqat.tflite]}")
    echo "  flash (packed file) $r smaller than float: $(verdict "goal: at least 8x" "${r%x} >= 8") (dense $(ratio "${bytes[pcqat.tflite]}"))."
  fi
}

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo "?")
section="$work/section.md"
{
  echo "<!-- study:begin (generated by bench/compression_study.sh; do not edit by hand) -->"
  echo
  echo "Generated by \`bench/compression_study.sh\` on $(date -u +%Y-%m-%d), commit $commit, $cpu,"
  echo "$(nproc) cores shared with other jobs; the whole study took $((elapsed / 60)) min $((elapsed % 60)) s."
  echo "Settings: baseline $base_epochs epochs; fine-tuning $prune_epochs epochs (pruning),"
  echo "$cluster_epochs (clustering), $qat_epochs (QAT), batch 32, Adam with cosine decay from $lr"
  echo "($qat_lr for QAT); calibration on the first $calib training images. Accuracy: \`nanoml eval\`"
  echo "of each final .tflite on the 10,000 test images in nanoml's runtime; \"change\" is in"
  echo "percentage points against row 1. Sizes: \"file bytes\" is the .tflite with standard dense"
  echo "weights, \"packed bytes\" what \`nml_pack_weights\` makes of it (n/a until the packer is"
  echo "merged), \"gzip bytes\" the dense file through \`gzip -9\`. Values per layer: the most"
  echo "distinct weight values (int8: codes) in one layer."
  echo
  table
  echo
  echo "Goals:"
  echo
  goals
  echo
  echo "<!-- study:end -->"
} > "$section"

if [ -f "$doc" ] && grep -q '<!-- study:begin' "$doc"; then
  awk -v sec="$section" '
    /<!-- study:begin/ { while ((getline line < sec) > 0) print line; skip = 1; next }
    /<!-- study:end -->/ { skip = 0; next }
    !skip { print }' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
else
  cat "$section" >> "$doc"
fi
say "wrote $doc ($elapsed s; models and log in $work)"
