#!/usr/bin/env bash
# RV32IMC benchmark of the reference and the optimized int8 kernels, side by side in one run:
# every model is deployed twice with `nanoml deploy --target rv32-qemu` (--kernels reference,
# then --kernels optimized), run under qemu-system-riscv32 with -icount shift=0 (minstret is
# exact and repeatable), and the results are written as Markdown to bench/rv32.md (or OUT).
#
# usage: bench/rv32.sh [BUILD_DIR] [OUT.md]      (defaults: build/, bench/rv32.md)
# models, in this order:
#   lenet5       LeNet-5 int8, made here: `nanoml train lenet5 --epochs 1` on all of
#                Fashion-MNIST, `nanoml quantize` (int8 I/O) calibrated on 300 training images;
#                input: Fashion-MNIST test image 0, expected output: the host runtime's
#                (`nanoml run`). $NML_BENCH_LENET5=FILE.tflite takes that model instead.
#   fastestdet   FastestDet int8 at 128x86, made here as tests/scripts/test_firmware_fastestdet.sh
#                does: `nanoml import` of the shared ONNX file at 1x3x86x128, calibration
#                tensors from `nanoml preprocess` (64 coco128-val images), `nanoml quantize`
#                (int8 I/O); input: images/3.jpg as `nanoml detect` prepares it, expected output:
#                the host runtime's. $NML_BENCH_FASTESTDET=FILE.tflite takes that model instead.
#   micro_speech_quantized, person_detect: the shared TFLM models, TFLM golden input/output
#   $NML_BENCH_MODELS      more .tflite files, space-separated
# NML_BENCH_KEEP=DIR keeps the models made here and the deploy logs.
# When a real model cannot be made (no Fashion-MNIST, no ONNX file), its synthetic stand-in
# from bench/synth_models.c (same layer structure, random weights) is measured instead and
# the table says so.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-$here/bench/rv32.md}"
cli="$build/nanoml"
shared="${NML_SHARED_DIR:-$here/../shared}"
fmnist="/usr/share/datasets/fashion-mnist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --build "$build" --target nanoml synth_models idx_npy -j2 >/dev/null
"$build/synth_models" "$work/synth" >/dev/null

# The raw tensor bytes of a .npy file (format 1.0: header length at byte 8).
npy_payload() { # NPY OUT
  local hl
  hl="$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')"
  tail -c +$((10 + hl + 1)) "$1" >"$2"
}

# LeNet-5: trained and quantized here -> $work/real/lenet5.tflite, .in.bin, .expect.bin
make_lenet5() {
  local d="$work/real"
  [ -f "$fmnist/train-images-idx3-ubyte.gz" ] || return 1
  if [ -n "${NML_BENCH_LENET5:-}" ]; then
    cp "$NML_BENCH_LENET5" "$d/lenet5.tflite"
  else
    echo "rv32.sh: training LeNet-5 (1 epoch, Fashion-MNIST) ..." >&2
    "$cli" train lenet5 --epochs 1 --out "$d/lenet5_float.tflite" >"$d/train.log" 2>&1 || return 1
    "$build/tests/idx_npy" "$fmnist" train 0 300 32 32 "$d/lenet5_calib" >/dev/null || return 1
    "$cli" quantize "$d/lenet5_float.tflite" --calib "npy:$d/lenet5_calib" --io int8 \
      --out "$d/lenet5.tflite" --quiet >/dev/null || return 1
  fi
  local line scale zp
  line="$("$cli" inspect "$d/lenet5.tflite" | grep '^inputs *0: int8 1x32x32x1 ')" || return 1
  scale="$(sed -n 's/.*scale \([0-9.e+-]*\), zero point \(-*[0-9]*\)).*/\1/p' <<<"$line")"
  zp="$(sed -n 's/.*scale \([0-9.e+-]*\), zero point \(-*[0-9]*\)).*/\2/p' <<<"$line")"
  "$build/tests/idx_npy" "$fmnist" t10k 0 1 32 32 "$d/lenet5_in" --int8 "$scale" "$zp" \
    >/dev/null || return 1
  cp "$d"/lenet5_in/*.bin "$d/lenet5.in.bin"
  "$cli" run "$d/lenet5.tflite" --input "$d/lenet5.in.bin" --output "$d/lenet5.expect.bin" \
    >/dev/null || return 1
}

# FastestDet at 128x86: imported and quantized here -> $work/real/fastestdet.tflite, ...
make_fastestdet() {
  local d="$work/real" onnx="$shared/models/fastestdet/FastestDet.onnx"
  if [ -n "${NML_BENCH_FASTESTDET:-}" ]; then
    cp "$NML_BENCH_FASTESTDET" "$d/fastestdet.tflite"
  else
    [ -f "$onnx" ] || return 1
    echo "rv32.sh: importing and quantizing FastestDet at 128x86 ..." >&2
    "$cli" import "$onnx" --out "$d/fastestdet_float.tflite" --input-shape 1x3x86x128 \
      --quiet >/dev/null || return 1
    "$cli" preprocess "$d/fastestdet_float.tflite" --dataset "$shared/datasets/coco128-val" \
      --limit 64 --out "$d/fastestdet_calib" --quiet >/dev/null || return 1
    "$cli" quantize "$d/fastestdet_float.tflite" --calib "npy:$d/fastestdet_calib" --io int8 \
      --out "$d/fastestdet.tflite" --quiet >/dev/null || return 1
  fi
  "$cli" detect "$d/fastestdet.tflite" --image "$shared/images/3.jpg" \
    --save-input "$d/fastestdet_in.npy" --save-output "$d/fastestdet_out.npy" >/dev/null ||
    return 1
  npy_payload "$d/fastestdet_in.npy" "$d/fastestdet.in.bin"
  npy_payload "$d/fastestdet_out.npy" "$d/fastestdet.expect.bin"
}

mkdir -p "$work/real"
# NML_BENCH_KEEP=DIR: keep the models made here and every deploy log there
keep() { if [ -n "${NML_BENCH_KEEP:-}" ]; then mkdir -p "$NML_BENCH_KEEP"; cp -r "$@" "$NML_BENCH_KEEP"/; fi; }
models=()
synthetic=""
if make_lenet5; then models+=("$work/real/lenet5.tflite")
else models+=("$work/synth/lenet5_synth.tflite"); synthetic="$synthetic lenet5_synth"; fi
if make_fastestdet; then models+=("$work/real/fastestdet.tflite")
else models+=("$work/synth/fastestdet_synth.tflite"); synthetic="$synthetic fastestdet_synth"; fi
for m in micro_speech_quantized person_detect; do
  [ -f "$shared/models/tflm/$m.tflite" ] && models+=("$shared/models/tflm/$m.tflite")
done
for m in ${NML_BENCH_MODELS:-}; do models+=("$m"); done

# The .text input sections of a GNU ld map file: calls add(size, file) for each (the caller's
# awk program defines add and its END).
map_text_walk='
    function hex(s,   i, v) { s = tolower(s); sub(/^0x/, "", s); v = 0
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v }
    /^Linker script and memory map/ { inmap = 1; next }
    !inmap { next }
    /^\.text/ { intext = 1; next }
    /^\.[a-z]/ { intext = 0 }
    !intext { next }
    /^ \.text/ { if (NF >= 4) { add($3, $4); pending = 0 } else pending = 1; next }
    pending && /^ +0x/ { if (NF >= 3) add($2, $3); pending = 0 }'

# .text of the linked firmware by origin: runtime objects, libgcc + C library (pulled in by the
# runtime's prepare-time arithmetic), harness.
text_split() {
  awk "$map_text_walk"'
    function add(size, file,   k) {
      # an --lto build compiles the runtime and the model into ltrans objects
      if (file ~ /src_runtime_|ltrans/) k = "runtime"; else if (file ~ /firmware_|gen_/) k = "harness"
      else k = "lib"
      sum[k] += hex(size) }
    END { printf "%d %d %d\n", sum["runtime"], sum["lib"], sum["harness"] }' "$1"
}

# .text per runtime object, largest first: "bytes object"
objects() {
  awk "$map_text_walk"'
    function add(size, file) { if (file !~ /src_runtime_/) return
      sub(/.*src_runtime_(kernels_)?/, "", file); sub(/\.o\)?$/, "", file); sum[file] += hex(size) }
    END { for (f in sum) if (sum[f] > 0) print sum[f], f }' "$1" | sort -nr
}

# input/expected output: the host runtime's for the models made here, the TFLM golden files
# (first input set) for the shared TFLM models, else none (an all-zero input)
golden_args() {
  local g="$shared/golden/tflm-reference/$1"
  if [ -f "$work/real/$1.in.bin" ]; then
    echo "--input $work/real/$1.in.bin --expect $work/real/$1.expect.bin"
    return
  fi
  case "$1" in
    person_detect) echo "--input $g/in_person.bin --expect $g/out_person.bin" ;;
    micro_speech_quantized) echo "--input $g/in_000.bin --expect $g/out_000.bin" ;;
  esac
}

# deploy NAME MODEL KERNELS [TAG EXTRA...] -> work/NAME.TAG.{log,out} and .../fw/firmware.map
# (TAG defaults to KERNELS; EXTRA: more deploy options); 1 on failure
deploy() {
  local name="$1" model="$2" kernels="$3" tag="${4:-$3}"
  shift 4 2>/dev/null || shift 3
  # shellcheck disable=SC2046
  "$cli" deploy "$model" --target rv32-qemu --kernels "$kernels" --timeout 1200 \
    $(golden_args "$name") --save-outputs "$work/$name.$tag.out" \
    --out "$work/$name.$tag.fw" "$@" >"$work/$name.$tag.log" 2>&1
}

# per-operator-kind sums of a deploy log: "KIND instructions macs"
by_kind() {
  awk '/^ +[0-9]+  [A-Z_0-9]+ +[0-9]+/ { i[$2] += $3; if ($4 ~ /^[0-9]+$/) m[$2] += $4 }
       END { for (k in i) print k, i[k], m[k] + 0 }' "$1"
}

# per-layer lines of a deploy log's convolution-like operators: "INDEX KIND instructions macs"
conv_layers() {
  awk '/^ +[0-9]+  (CONV_2D|DEPTHWISE_CONV_2D|FULLY_CONNECTED) +[0-9]+ +[0-9]+/ { print $1, $2, $3, $4 }' "$1"
}

field() { sed -n "$2" "$1" | head -1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

results="$work/results.txt"
: >"$results"
# operator order (the "activation peak:" line of nanoml deploy): "NAME KERNELS original-act
# original-bound applied search..."
orders="$work/orders.txt"
: >"$orders"
for model in "${models[@]}"; do
  name="$(basename "$model" .tflite)"
  runs=(reference optimized)
  # FastestDet also with link-time optimization (opt-in: `nanoml deploy --lto`), and with that
  # and compact errors (`--compact-errors`); every model with those and the export-time arena
  # plan (`--plan-at-export`): the smallest runtime
  [[ "$name" == fastestdet* ]] && runs+=(optimized+lto optimized+lto+compact)
  runs+=(optimized+smallest)
  for k in "${runs[@]}"; do
    if [ "$k" = optimized+lto ]; then ok=0; deploy "$name" "$model" optimized "$k" --lto || ok=$?
    elif [ "$k" = optimized+lto+compact ]; then
      ok=0; deploy "$name" "$model" optimized "$k" --lto --compact-errors || ok=$?
    elif [ "$k" = optimized+smallest ]; then
      ok=0; deploy "$name" "$model" optimized "$k" --lto --compact-errors --plan-at-export || ok=$?
    else ok=0; deploy "$name" "$model" "$k" || ok=$?; fi
    if [ "$ok" -ne 0 ]; then
      echo "$name $k FAILED $(tail -1 "$work/$name.$k.log")" >>"$results"
      continue
    fi
    log="$work/$name.$k.log"
    instr="$(field "$log" 's/^instructions per inference: \([0-9]*\).*/\1/p')"
    macs="$(awk '/^ +total /{print $3}' "$log")"
    arena="$(field "$log" 's/^  arena *\([0-9]*\) B.*/\1/p')"
    pers="$(field "$log" 's/.*persistent \([0-9]*\) + activations.*/\1/p')"
    act="$(field "$log" 's/.* + activations \([0-9]*\)).*/\1/p')"
    low="$(field "$log" 's/^ *activations lower bound \([0-9]*\) B.*/\1/p')"
    text="$(field "$log" 's/^  \.text *\([0-9]*\) B.*/\1/p')"
    read -r rt lib hz <<<"$(text_split "$work/$name.$k.fw/firmware.map")"
    pass="$(grep -q '^result: PASS' "$log" && echo PASS || echo FAIL)"
    if grep -q 'every output matches --expect' "$log"; then
      if [ -f "$work/real/$name.in.bin" ]; then pass="host"; else pass="golden"; fi
    fi
    if [ "$k" != reference ]; then
      if cmp -s "$work/$name.reference.out" "$work/$name.$k.out"; then
        pass="$pass,same"; else pass="$pass,DIFFERENT"; fi
    fi
    echo "$name $k $instr ${macs:-0} $arena $pers $act ${low:-0} $text $rt $lib $hz $pass" >>"$results"
    oline="$(grep '^activation peak: ' "$log" | head -1)" || true
    if [ -n "$oline" ]; then
      oact="$(sed -n 's/^activation peak: original order \([0-9]*\) B.*/\1/p' <<<"$oline")"
      if grep -q ' kept (' <<<"$oline"; then
        oapplied=kept; obound="$(sed -n 's/.* kept (lower bound \([0-9]*\) B.*/\1/p' <<<"$oline")"
      else
        oapplied=reordered; obound="$(sed -n 's/.*, for the original \([0-9]*\) B.*/\1/p' <<<"$oline")"
      fi
      osearch="$(sed -n 's/.*; \([^;]*\))$/\1/p' <<<"$oline")"
      echo "$name $k ${oact:-0} ${obound:-0} $oapplied ${osearch:-?}" >>"$orders"
    fi
    by_kind "$log" | sed "s/^/$name $k KIND /" >>"$results"
    conv_layers "$log" | sed "s/^/$name $k LAYER /" >>"$results"
    objects "$work/$name.$k.fw/firmware.map" | sed "s/^/$name $k OBJ /" >>"$results"
  done
done

keep "$work/real" "$work"/*.log

# ---- Markdown ----
{
  echo "# RV32IMC: reference vs optimized int8 kernels"
  echo
  echo "Generated by \`bench/rv32.sh\` (one command; rerun it after a merge). Each model is built"
  echo "into the bare-metal firmware harness twice, \`nanoml deploy --target rv32-qemu --kernels"
  echo "reference\` and \`--kernels optimized\` (riscv64-unknown-elf-gcc $("${NANOML_RISCV_PREFIX:-riscv64-unknown-elf-}gcc" -dumpversion),"
  echo "\`-march=rv32imc_zicsr -mabi=ilp32 -Os\`, picolibc), and run on $(${NANOML_QEMU:-qemu-system-riscv32} --version | head -1 | sed 's/ (.*//')"
  echo "with \`-icount shift=0\`: instructions are \`minstret\` deltas around one \`nml_invoke\`, exact"
  echo "and identical run to run. MACs follow \`include/nanoml/macs.h\`; per-operator counts include"
  echo "the interpreter's dispatch and the profiling hook (a few dozen instructions per operator)."
  echo
  echo "Machine: $(uname -m), $(nproc) cores. Date: $(date -u +%Y-%m-%d)."
  echo
  echo "Models: \`lenet5\` is LeNet-5 trained here (\`nanoml train lenet5 --epochs 1\`, all of"
  echo "Fashion-MNIST) and quantized by \`nanoml quantize\` (int8 I/O, per-channel weights, 300"
  echo "training images for calibration); \`fastestdet\` is the shared FastestDet ONNX file imported"
  echo "at 1x3x86x128 (\`nanoml import\`), calibrated on 64 coco128-val images prepared by \`nanoml"
  echo "preprocess\` and quantized the same way. Their inputs are Fashion-MNIST test image 0 and"
  echo "images/3.jpg (as \`nanoml detect\` prepares it). \`micro_speech_quantized\` and"
  echo "\`person_detect\` are the shared TFLM models."
  if [ -n "$synthetic" ]; then
    echo
    echo "**Synthetic stand-ins measured:**$synthetic (the real model could not be made on this"
    echo "machine: Fashion-MNIST or the FastestDet ONNX file missing). They have the layer structure"
    echo "of the real model and random weights (\`bench/synth_models.c\`)."
  fi
  echo
  echo "## Instructions per inference"
  echo
  echo "| model | MACs | reference instr | optimized instr | speed-up | reference instr/MAC | optimized instr/MAC | outputs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  awk '$2 == "reference" && $3 != "KIND" && $3 != "LAYER" && $3 != "OBJ" && $3 != "FAILED" { r[$1] = $3; m[$1] = $4; ok[$1] = $13; order[++n] = $1 }
       $2 == "optimized" && $3 != "KIND" && $3 != "LAYER" && $3 != "OBJ" && $3 != "FAILED" { o[$1] = $3; ok2[$1] = $13 }
       END { for (i = 1; i <= n; i++) { k = order[i]
               printf "| %s | %d | %d | %d | %.2fx | %.2f | %.2f | %s / %s |\n", k, m[k], r[k], o[k],
                      o[k] ? r[k] / o[k] : 0, m[k] ? r[k] / m[k] : 0, m[k] ? o[k] / m[k] : 0,
                      ok[k], ok2[k] } }' "$results"
  echo
  echo "\"outputs\": golden = the firmware matched the TFLM golden output of the first input set"
  echo "bit for bit; host = it matched the host runtime's output (\`nanoml run\` / \`nanoml detect\`)"
  echo "bit for bit (PASS: ran, no expectation: a synthetic model on an all-zero input);"
  echo "same = the optimized run's output bytes equal the reference run's."
  echo
  echo "Optimized kernels exist for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, LOGISTIC, SOFTMAX"
  echo "and TANH (int8), and for GATHER (constant indices in arithmetic progression), QUANTIZE"
  echo "(int8 -> int8), PAD/PADV2 (one-byte elements), CONCATENATION (copies), MAX_POOL_2D,"
  echo "AVERAGE_POOL_2D and ADD (int8, no broadcasting); every other operator runs the same reference"
  echo "kernel in both columns, and both columns use the same planner (views share their input's buffer)."
  echo
  echo "## Instructions per MAC by operator kind"
  echo
  echo "| model | operator | MACs | reference instr | optimized instr | reference instr/MAC | optimized instr/MAC |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  awk '$3 == "KIND" && $2 == "reference" { key = $1 " " $4; r[key] = $5; m[key] = $6; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
       $3 == "KIND" && $2 == "optimized" { o[$1 " " $4] = $5 }
       END { for (i = 1; i <= n; i++) { k = order[i]; split(k, a, " ")
               if (a[2] !~ /CONV|FULLY/) continue
               printf "| %s | %s | %d | %d | %d | %s | %s |\n", a[1], a[2], m[k], r[k], o[k],
                      m[k] ? sprintf("%.2f", r[k] / m[k]) : "-", m[k] ? sprintf("%.2f", o[k] / m[k]) : "-" } }' "$results"
  echo
  echo "### Convolution layers one by one"
  echo
  echo "The goal is at most 4 instructions per MAC on every convolution layer. Per model and"
  echo "operator kind: the layers (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) that meet it with the"
  echo "optimized kernels, the share of the kind's MACs in them, and every layer that does not"
  echo "(\`#index\` is the operator's position in the deployed model, as \`nanoml inspect\` lists it;"
  echo "reference -> optimized instructions per MAC; counts include the dispatch and hook)."
  echo
  echo "| model | operator | layers <= 4 instr/MAC | MACs in them | layers above 4 (ref -> opt instr/MAC) |"
  echo "|---|---|---:|---:|---|"
  awk '$3 == "LAYER" && $2 == "reference" { r[$1 " " $4] = $7 ? $6 / $7 : 0 }
       $3 == "LAYER" && $2 == "optimized" && $7 > 0 {
         key = $1 " " $5; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
         v = $6 / $7; layers[key]++; macs[key] += $7
         if (v <= 4.0) { good[key]++; gm[key] += $7 }
         else bad[key] = bad[key] sprintf("%s#%d %.2f -> %.2f (%d MACs)", bad[key] == "" ? "" : ", ", $4, r[$1 " " $4], v, $7) }
       END { for (i = 1; i <= n; i++) { k = order[i]; split(k, a, " ")
               printf "| %s | %s | %d of %d | %.1f%% | %s |\n", a[1], a[2], good[k], layers[k],
                      100 * gm[k] / macs[k], bad[k] == "" ? "none" : bad[k] } }' "$results"
  echo
  echo "## Memory and code"
  echo
  echo "Arena: the exact RV32 figure the runtime planned (\`N\` bytes work, \`N - 1\` fail), split into"
  echo "the persistent part (tensor and node tables, kernel data) and the activations; the lower bound"
  echo "is the most activation bytes live while one operator runs (no plan for this operator order"
  echo "can use less). Code: \`.text\` of the whole firmware, of the runtime's objects, and of"
  echo "libgcc + picolibc (soft-float and 64-bit division helpers: the prepare-time arithmetic that"
  echo "TFLite itself does in double (requantization multipliers, activation ranges, softmax and"
  echo "logistic scaling), 64-bit division in some kernels' prepare (not in the formatter or the"
  echo "harness's printf, which divide with 32-bit instructions) and the \`-msave-restore\` routines)."
  echo "Only the kernels a model uses are linked (the export's resolver); with \`--kernels optimized\`"
  echo "an operator whose nodes are all plain int8 gets the optimized kernel's int8-only variant,"
  echo "which does not link the reference evaluation it would otherwise fall back to. Runtime code"
  echo "outside the optimized kernels is compiled with \`-msave-restore\`."
  echo
  echo "The persistent part is the tensor table (84 B per tensor on RV32, constants included), the"
  echo "node table (40 B per operator) and the kernels' data: for CONV_2D and DEPTHWISE_CONV_2D about"
  echo "110-140 B per node plus the requantization tables (5 B per output channel), for LOGISTIC and"
  echo "TANH a 256 B table per node, for SOFTMAX a 1 KiB exp table on tensors of 256 or more"
  echo "elements, for QUANTIZE (int8 -> int8) a 256 B table on tensors of 256 or more elements."
  echo "The planner runs the operators in the embedded model's order, which \`nanoml deploy\`"
  echo "chose (next table); where the activations equal the lower bound, only fused operators or"
  echo "smaller tensors could need less."
  echo
  echo "| model | kernels | arena B | persistent B | activations B | activation lower bound B | firmware .text B | runtime .text B | libgcc+libc .text B |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk '$3 != "KIND" && $3 != "LAYER" && $3 != "OBJ" && $3 != "FAILED" { printf "| %s | %s | %d | %d | %d | %d | %d | %d | %d |\n", $1, $2, $5, $6, $7, $8, $9, $10, $11 }
       $3 == "FAILED" { printf "| %s | %s | failed: %s |\n", $1, $2, substr($0, index($0, $4)) }' "$results"
  echo
  echo "### Operator order and in-place outputs"
  echo
  echo "\`nanoml deploy\` searches the operator order with the smallest activation lower bound (the"
  echo "runtime planner's metric: the most bytes of distinct buffers live while one operator runs,"
  echo "plus its scratch; views and in-place element-wise outputs share their input's buffer) and"
  echo "embeds the reordered model when the runtime then plans fewer activation bytes (\`--keep-order\`"
  echo "disables it). \"original order\" is the host plan of the file's order; \"chosen order\" is the"
  echo "RV32 figure of the model the firmware ran (the same as the columns above). \"search\": exact ="
  echo "the minimum over every topological order (dynamic programming over sets of executed"
  echo "operators), greedy = the exact search hit its state limit."
  echo
  echo "| model | kernels | original order activations B | original order lower bound B | chosen order activations B | chosen order lower bound B | order | search |"
  echo "|---|---|---:|---:|---:|---:|---|---|"
  awk 'FNR == NR { if ($3 != "KIND" && $3 != "LAYER" && $3 != "OBJ" && $3 != "FAILED") { a[$1 " " $2] = $7; b[$1 " " $2] = $8 } next }
       { k = $1 " " $2; s = $6; for (i = 7; i <= NF; i++) s = s " " $i
         printf "| %s | %s | %d | %d | %s | %s | %s | %s |\n", $1, $2, $3, $4, a[k], b[k], $5, s }' \
    "$results" "$orders"
  echo
  echo "Runtime .text by object, optimized kernels (bytes; the goal is 24,576 B for FastestDet):"
  echo
  awk '$3 == "OBJ" && $2 == "optimized" { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
         t[$1] = t[$1] (t[$1] == "" ? "" : ", ") $5 " " $4 }
       END { for (i = 1; i <= n; i++) printf "- %s: %s\n", order[i], t[order[i]] }' "$results"
  echo
  echo "The default build (the rows above) compiles each source file on its own and links the"
  echo "runtime as an archive: only the objects something references are taken (packed-weights"
  echo 'code only for a model with packed tensors), and `--gc-sections` drops unreferenced'
  echo 'functions. `optimized+lto` is the opt-in `nanoml deploy --lto`: the runtime and the'
  echo 'model compiled with `-flto`. LTO merges the objects, so that row'"'"'s runtime .text is the'
  echo "whole runtime (no split by object):"
  echo
  awk '$3 == "KIND" || $3 == "LAYER" || $3 == "OBJ" || $3 == "FAILED" { next }
       $2 == "optimized" { oi[$1] = $3; ot[$1] = $10 }
       $2 == "optimized+lto" { li[$1] = $3; lt[$1] = $10; lp[$1] = $13; order[++n] = $1 }
       END { for (i = 1; i <= n; i++) { k = order[i]
               printf "- %s: runtime .text %d B with LTO vs %d B without (%+d B); instructions per inference %d vs %d (%+.1f%%); outputs %s\n",
                      k, lt[k], ot[k], lt[k] - ot[k], li[k], oi[k], oi[k] ? 100 * (li[k] - oi[k]) / oi[k] : 0, lp[k] } }' "$results"
  echo
  echo '`optimized+lto+compact` adds `--compact-errors` (errors keep their status and where, not'
  echo 'the detail text; docs/deploy.md):'
  echo
  awk '$3 == "KIND" || $3 == "LAYER" || $3 == "OBJ" || $3 == "FAILED" { next }
       $2 == "optimized" { oi[$1] = $3; ot[$1] = $10 }
       $2 == "optimized+lto+compact" { ci[$1] = $3; ct[$1] = $10; cp[$1] = $13; order[++n] = $1 }
       END { for (i = 1; i <= n; i++) { k = order[i]
               printf "- %s: runtime .text %d B vs %d B by default (%+d B); instructions per inference %d vs %d (%+.1f%%); outputs %s\n",
                      k, ct[k], ot[k], ct[k] - ot[k], ci[k], oi[k], oi[k] ? 100 * (ci[k] - oi[k]) / oi[k] : 0, cp[k] } }' "$results"
  echo
  echo '`optimized+smallest` is `--lto --compact-errors --plan-at-export`: the arena plan is made'
  echo 'by the export and only checked on the device, so the firmware links no planner'
  echo '(docs/deploy.md), the smallest runtime. Every model, against the default build (the goal of'
  echo '24,576 B is for FastestDet'"'"'s operator set; the plan table adds .rodata, not .text):'
  echo
  awk '$3 == "KIND" || $3 == "LAYER" || $3 == "OBJ" || $3 == "FAILED" { next }
       $2 == "optimized" { oi[$1] = $3; ot[$1] = $10; oa[$1] = $5 }
       $2 == "optimized+smallest" { si[$1] = $3; st[$1] = $10; sp[$1] = $13; sa[$1] = $5; order[++n] = $1 }
       END { for (i = 1; i <= n; i++) { k = order[i]
               printf "- %s: runtime .text %d B vs %d B by default (%+d B; goal 24,576 B: %+d B); arena %d vs %d B; instructions per inference %d vs %d (%+.2f%%); outputs %s\n",
                      k, st[k], ot[k], st[k] - ot[k], st[k] - 24576, sa[k], oa[k], si[k], oi[k], oi[k] ? 100 * (si[k] - oi[k]) / oi[k] : 0, sp[k] } }' "$results"
} >"$out"
echo "wrote $out"
