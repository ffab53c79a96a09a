#!/usr/bin/env bash
# The LeNet-5 / Fashion-MNIST compression study: trains the float baseline, applies every
# compression technique with the nanoml CLI (each fine-tuning briefly), stores every result
# both as a standard .tflite (`nanoml pack --unpack`) and packed (`nanoml pack`: what the
# microcontroller's flash holds), measures and evaluates them on the 10,000 test images in
# nanoml's runtime with `nanoml compare`, and writes the table between the study markers of
# docs/compression.md and the size-versus-accuracy plot docs/compression_pareto.png.
#
#   bench/compression_study.sh [--build DIR] [--work DIR] [--doc FILE] [--plot FILE]
#                              [--base-epochs N] [--prune-epochs N] [--cluster-epochs N]
#                              [--qat-epochs N] [--lr X] [--qat-lr X] [--calib N]
#
# Defaults: 10 baseline epochs (`nanoml train lenet5` as documented in docs/training.md),
# 2 pruning epochs, 1 clustering epoch, 1 QAT epoch, fine-tuning lr 1e-3 (prune, cluster) and
# 1e-4 (QAT), 1000 calibration images. Models stay in the work folder (build/compression_study).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/bench/doc_section.sh"
build="$here/build"
work=""
doc="$here/docs/compression.md"
plot="$here/docs/compression_pareto.png"
base_epochs=10
prune_epochs=4
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
    --plot) plot="$2"; shift 2 ;;
    --base-epochs) base_epochs="$2"; shift 2 ;;
    --prune-epochs) prune_epochs="$2"; shift 2 ;;
    --cluster-epochs) cluster_epochs="$2"; shift 2 ;;
    --qat-epochs) qat_epochs="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --qat-lr) qat_lr="$2"; shift 2 ;;
    --calib) calib="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compression_study.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work="${work:-$build/compression_study}"
nanoml="$build/nanoml"
[ -x "$nanoml" ] || { echo "compression_study.sh: build first ($nanoml missing)" >&2; exit 1; }
mkdir -p "$work/plain" "$work/packed"
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

tune="--quiet --lr $lr"
qtune="--quiet --lr $qat_lr --epochs $qat_epochs"
cal="fashion-mnist:$calib"
m="$work"

# ---- the models (every command writes plain weights; packing is measured below) ----
run "baseline: $base_epochs epochs" "$nanoml" train lenet5 --epochs "$base_epochs" --out "$m/float.tflite"
run "fine-tuning control" "$nanoml" prune "$m/float.tflite" --sparsity 0 --epochs "$prune_epochs" $tune --out "$m/control.tflite"
run "float16" "$nanoml" quantize "$m/float.tflite" --mode float16 --quiet --out "$m/ptq_f16.tflite"
run "dynamic" "$nanoml" quantize "$m/float.tflite" --mode dynamic --quiet --out "$m/ptq_dyn.tflite"
run "int8" "$nanoml" quantize "$m/float.tflite" --calib "$cal" --quiet --out "$m/ptq_int8.tflite"
run "int8 per-tensor" "$nanoml" quantize "$m/float.tflite" --calib "$cal" --per-tensor --io int8 --quiet --out "$m/ptq_int8_pt.tflite"
run "int4" "$nanoml" quantize "$m/float.tflite" --mode int4 --calib "$cal" --quiet --out "$m/ptq_int4.tflite"
run "qat" "$nanoml" qat "$m/float.tflite" $qtune --no-pack --out "$m/qat.tflite"
run "prune 50%" "$nanoml" prune "$m/float.tflite" --sparsity 0.5 --epochs "$prune_epochs" $tune --out "$m/prune50.tflite"
run "prune 50% constant" "$nanoml" prune "$m/float.tflite" --sparsity 0.5 --schedule constant --epochs "$prune_epochs" $tune --out "$m/prune50c.tflite"
run "prune 80%" "$nanoml" prune "$m/float.tflite" --sparsity 0.82 --layers c1:0.3,c3:0.6,output:0.5 --epochs "$prune_epochs" $tune --out "$m/prune80.tflite"
run "prune 2:4" "$nanoml" prune "$m/float.tflite" --structure 2:4 --epochs "$prune_epochs" $tune --out "$m/prune24.tflite"
run "prune filters" "$nanoml" prune "$m/float.tflite" --structure filters --sparsity 0.5 --skip c1 --epochs "$prune_epochs" $tune --out "$m/filters.tflite"
run "cluster 16 k-means++" "$nanoml" cluster "$m/float.tflite" --clusters 16 --epochs "$cluster_epochs" $tune --out "$m/cluster16.tflite"
run "cluster 16 linear" "$nanoml" cluster "$m/float.tflite" --clusters 16 --init linear --epochs "$cluster_epochs" $tune --out "$m/cluster16l.tflite"
run "cluster 16 density" "$nanoml" cluster "$m/float.tflite" --clusters 16 --init density --epochs "$cluster_epochs" $tune --out "$m/cluster16d.tflite"
run "cluster 8" "$nanoml" cluster "$m/float.tflite" --clusters 8 --epochs "$cluster_epochs" $tune --out "$m/cluster8.tflite"
run "cluster 32" "$nanoml" cluster "$m/float.tflite" --clusters 32 --epochs "$cluster_epochs" $tune --out "$m/cluster32.tflite"
run "pruning-preserving clustering" "$nanoml" cluster "$m/prune50.tflite" --clusters 16 --preserve sparsity --epochs "$cluster_epochs" $tune --out "$m/ppc.tflite"
run "sparsity-preserving qat" "$nanoml" qat "$m/prune50.tflite" --preserve sparsity $qtune --no-pack --out "$m/sqat.tflite"
run "cluster-preserving qat" "$nanoml" qat "$m/cluster16.tflite" --preserve clusters $qtune --no-pack --out "$m/cqat.tflite"
# PCQAT through a recipe whose last step packs (the study unpacks it again for the plain row)
run "pcqat" "$nanoml" compress "$m/ppc.tflite" --step "qat preserve=sparsity,clusters epochs=$qat_epochs lr=$qat_lr" --step pack --quiet --out "$m/pcqat.tflite"
for f in prune50 prune80 prune24 cluster16; do
  run "$f + int8" "$nanoml" quantize "$m/$f.tflite" --calib "$cal" --quiet --out "$m/${f}_int8.tflite"
done

# name | settings | file | plot label
rows=(
  "float32 baseline|\`nanoml train lenet5\`, $base_epochs epochs|float|float"
  "fine-tuning control (no compression)|+$prune_epochs epochs at lr $lr, as the pruning rows|control|ctl"
  "PTQ float16|\`quantize --mode float16\`|ptq_f16|f16"
  "PTQ dynamic range|\`quantize --mode dynamic\`|ptq_dyn|dyn"
  "PTQ int8|per-channel, float I/O, $calib Fashion-MNIST images, minmax|ptq_int8|int8"
  "PTQ int8, per-tensor, int8 I/O|\`--per-tensor --io int8\`|ptq_int8_pt|int8pt"
  "PTQ int4 weights|int4 weights per channel, int8 activations|ptq_int4|int4"
  "QAT int8|$qat_epochs epoch, lr $qat_lr|qat|qat"
  "pruning 50%, polynomial|PolynomialDecay 0 -> 0.5, power 3, every 100 steps|prune50|p50"
  "pruning 50%, constant|ConstantSparsity 0.5 from step 0|prune50c|p50c"
  "pruning 80%, polynomial, per-layer targets|c1 0.3, c3 0.6, c5 0.82, f6 0.82, output 0.5|prune80|p80"
  "pruning 2:4|2 of every 4 weights along each kernel row|prune24|2:4"
  "filter pruning 50% + removal|c3, c5, f6 lose half their channels (smallest L2)|filters|filt"
  "clustering 16, k-means++ init|centroids trained $cluster_epochs epoch|cluster16|c16"
  "clustering 16, linear init||cluster16l|c16lin"
  "clustering 16, density init||cluster16d|c16den"
  "clustering 8, k-means++ init||cluster8|c8"
  "clustering 32, k-means++ init||cluster32|c32"
  "pruning-preserving clustering|row 9 (50% sparse) + 16 clusters incl. 0|ppc|ppc"
  "sparsity-preserving QAT|row 9 + QAT int8|sqat|sqat"
  "cluster-preserving QAT|row 14 + QAT int8, per-tensor weights|cqat|cqat"
  "PCQAT: int8 + 50% + 16 clusters|row 19 + QAT int8, per-tensor weights|pcqat|pcqat"
  "pruning 50% + PTQ int8|row 9 + \`quantize\`|prune50_int8|p50+i8"
  "pruning 80% + PTQ int8|row 11 + \`quantize\`|prune80_int8|p80+i8"
  "pruning 2:4 + PTQ int8|row 12 + \`quantize\`|prune24_int8|2:4+i8"
  "clustering 16 + PTQ int8|row 14 + \`quantize\` (per-channel: up to 16 codes per channel)|cluster16_int8|c16+i8"
)

# ---- plain and packed forms ----
say "== packing ${#rows[@]} models"
plain=() packed=() labels=()
for r in "${rows[@]}"; do
  IFS='|' read -r _ _ f l <<< "$r"
  # plain: the file as its command wrote it, unpacked when it holds packed tensors (PCQAT)
  if "$nanoml" inspect "$m/$f.tflite" | grep -q '^packed'; then
    run "unpack $f" "$nanoml" pack "$m/$f.tflite" --unpack --out "$m/plain/$f.tflite"
  else
    cp "$m/$f.tflite" "$m/plain/$f.tflite"
  fi
  # packed: what nanoml pack makes of it; a model where no tensor shrinks is stored as it is
  run "pack $f" "$nanoml" pack "$m/plain/$f.tflite" --out "$m/packed/$f.tflite"
  if tail -2 "$log" | grep -q '^weights: \([0-9]*\) bytes plain, \1 bytes stored'; then
    cp "$m/plain/$f.tflite" "$m/packed/$f.tflite"
  fi
  plain+=("$m/plain/$f.tflite"); packed+=("$m/packed/$f.tflite"); labels+=("$l")
done
# the PCQAT recipe's own pack step and nanoml pack of its plain twin store the same bytes
cmp -s "$m/pcqat.tflite" "$m/packed/pcqat.tflite" && pack_same=yes || pack_same=no
say "== measuring and evaluating (nanoml compare)"
run "compare plain" "$nanoml" compare "${plain[@]}" --dataset none --labels "${labels[@]}" --csv "$m/plain.csv"
run "compare packed" "$nanoml" compare "${packed[@]}" --labels "${labels[@]}" --csv "$m/packed.csv" --md "$m/packed.md" --plot "$plot" --log-x --title "LeNet-5 on Fashion-MNIST: flash bytes vs test accuracy"
# the packed kernels are bit-exact: the plain PCQAT and 80% + int8 models must score the same
run "compare plain pcqat" "$nanoml" compare "$m/plain/pcqat.tflite" "$m/plain/prune80_int8.tflite" --labels pcqat p80+i8 --csv "$m/plain_check.csv"

declare -A file gz params zeros distinct acc flash correct
while IFS=, read -r l _ fb gzb _ prm sp dist _ _ _; do
  [ "$l" = label ] && continue
  file[$l]=$fb; gz[$l]=$gzb; params[$l]=$prm; zeros[$l]=$sp; distinct[$l]=$dist
done < "$m/plain.csv"
while IFS=, read -r l _ fb _ _ _ _ _ a c _; do
  [ "$l" = label ] && continue
  flash[$l]=$fb; acc[$l]=$(awk -v a="$a" 'BEGIN { printf "%.2f", 100 * a }'); correct[$l]=$c
done < "$m/packed.csv"
check=$(awk -F, 'NR > 1 { printf "%s%s %s of 10000", (NR > 2 ? ", " : ""), $1, $10 }' "$m/plain_check.csv")
base_acc=${acc[float]}
base_bytes=${file[float]}
elapsed=$(( $(date +%s) - started ))

ratio() { awk -v a="$base_bytes" -v b="$1" 'BEGIN { printf "%.2fx", a / b }'; }
delta() { awk -v a="$1" -v b="$base_acc" 'BEGIN { printf "%+.2f", a - b }'; }
pct() { awk -v s="$1" 'BEGIN { printf "%.1f%%", 100 * s }'; }
table() {
  echo "| # | technique | settings | file bytes | gzip bytes | flash bytes (packed) | flash vs float | parameters | zero weights | values per layer | accuracy | change |"
  echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  local i=0
  for r in "${rows[@]}"; do
    i=$((i + 1))
    IFS='|' read -r name how f l <<< "$r"
    local z d
    z=$(pct "${zeros[$l]}"); d=${distinct[$l]}
    [ "$d" = 0 ] && { z="n/a"; d="n/a"; } # float16 weights sit behind DEQUANTIZE: not counted
    echo "| $i | $name | $how | ${file[$l]} | ${gz[$l]} | ${flash[$l]} | $(ratio "${flash[$l]}") | ${params[$l]} | $z | $d | ${acc[$l]}% | $(delta "${acc[$l]}") |"
  done
}
verdict() { # verdict CONDITION-TEXT AWK-EXPR
  if awk "BEGIN { exit !($2) }"; then echo "**met** ($1)"; else echo "**not met** ($1)"; fi
}
goals() {
  local d r
  d=$(delta "${acc[int8]}"); r=$(ratio "${file[int8]}")
  echo "- int8 PTQ (row 5): $d points, $(verdict "goal: at most 0.5 points lost" "$d >= -0.5");"
  echo "  $r smaller than the float file, $(verdict "goal: at least 3.5x" "${r%x} >= 3.5")."
  echo "  Per-tensor weights with int8 I/O (row 6): $(ratio "${file[int8pt]}"), $(delta "${acc[int8pt]}") points."
  d=$(delta "${acc[p80]}")
  echo "- 80% unstructured sparsity with fine-tuning (row 11, $(pct "${zeros[p80]}") of the weights zero): $d points, $(verdict "goal: at most 1 point lost" "$d >= -1")."
  echo "  With PTQ int8 and packing (row 24): $(ratio "${flash[p80+i8]}") fewer flash bytes than float, $(delta "${acc[p80+i8]}") points."
  d=$(delta "${acc[c16]}")
  echo "- 16 clusters (row 14, k-means++): $d points, $(verdict "goal: at most 1 point lost" "$d >= -1"); linear init $(delta "${acc[c16lin]}"), density init $(delta "${acc[c16den]}")."
  d=$(delta "${acc[pcqat]}"); r=$(ratio "${flash[pcqat]}")
  echo "- PCQAT, int8 + 50% sparsity + 16 clusters (row 22): $d points, $(verdict "goal: at most 1.5 points lost" "$d >= -1.5");"
  echo "  ${flash[pcqat]} flash bytes, $r fewer than the float model's ${base_bytes}, $(verdict "goal: at least 8x" "${r%x} >= 8")"
  echo "  (plain int8 file ${file[pcqat]} bytes = $(ratio "${file[pcqat]}"); gzip of it $(ratio "${gz[pcqat]}"))."
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
  echo "($qat_lr for QAT); calibration on the first $calib training images. Accuracy: \`nanoml compare\`"
  echo "of each packed .tflite on the 10,000 test images in nanoml's runtime; \"change\" is in"
  echo "percentage points against row 1. Sizes: \"file bytes\" is the standard .tflite (plain"
  echo "weights, as LiteRT and TFLite Micro read it), \"gzip bytes\" that file through gzip -9"
  echo "(TF-MOT's measure), \"flash bytes\" the file \`nanoml pack\` makes of it, which nanoml's"
  echo "runtime executes as stored (float models and weights that no encoding shrinks stay plain)."
  echo "Zero weights and values per layer (most distinct values, int8: codes, in one layer) count the"
  echo "CONV_2D and FULLY_CONNECTED filters. The packed kernels are bit-exact with the plain ones:"
  echo "the plain files of rows 22 and 24 score $check correct (packed: ${correct[pcqat]}, ${correct[p80+i8]})."
  echo "The PCQAT file written by the recipe's pack step is byte-identical to \`nanoml pack\` of its"
  echo "plain form: $pack_same."
  echo
  table
  echo
  echo "![flash bytes against accuracy](compression_pareto.png)"
  echo
  echo "Goals:"
  echo
  goals
  echo
  echo "<!-- study:end -->"
} > "$section"

splice_doc_section "$doc" study "$section"
say "wrote $doc and $plot ($elapsed s; models and log in $work)"
