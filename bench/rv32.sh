#!/usr/bin/env bash
# RV32IMC benchmark of the reference and the optimized int8 kernels, side by side in one run:
# every model is deployed twice with `nanoml deploy --target rv32-qemu` (--kernels reference,
# then --kernels optimized), run under qemu-system-riscv32 with -icount shift=0 (minstret is
# exact and repeatable), and the results are written as Markdown to bench/rv32.md (or OUT).
#
# usage: bench/rv32.sh [BUILD_DIR] [OUT.md]      (defaults: build/, bench/rv32.md)
# models, in this order, each when its file exists:
#   $NML_BENCH_LENET5      LeNet-5 int8 (the trainer + PTQ output)
#   $NML_BENCH_FASTESTDET  FastestDet int8 at 128x86 (the ONNX import + PTQ output)
#   lenet5_synth, fastestdet_synth: synthetic stand-ins with the same layer structure and
#                          random weights (bench/synth_models.c), always included
#   micro_speech_quantized, person_detect: the shared TFLM models
#   $NML_BENCH_MODELS      more .tflite files, space-separated
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-$here/bench/rv32.md}"
cli="$build/nanoml"
shared="${NML_SHARED_DIR:-$here/../shared}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --build "$build" --target nanoml synth_models -j2 >/dev/null
"$build/synth_models" "$work/synth" >/dev/null

models=()
for m in "${NML_BENCH_LENET5:-}" "${NML_BENCH_FASTESTDET:-}"; do
  [ -n "$m" ] && [ -f "$m" ] && models+=("$m")
done
models+=("$work/synth/lenet5_synth.tflite" "$work/synth/fastestdet_synth.tflite")
for m in micro_speech_quantized person_detect; do
  [ -f "$shared/models/tflm/$m.tflite" ] && models+=("$shared/models/tflm/$m.tflite")
done
for m in ${NML_BENCH_MODELS:-}; do models+=("$m"); done

# .text of the linked firmware by origin (GNU ld map): runtime objects, libgcc + C library
# (pulled in by the runtime's prepare-time arithmetic and by the harness's printf), harness.
text_split() {
  awk '
    function hex(s,   i, v) { s = tolower(s); sub(/^0x/, "", s); v = 0
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v }
    function add(size, file,   k) {
      if (file ~ /src_runtime_/) k = "runtime"; else if (file ~ /firmware_|gen_/) k = "harness"
      else k = "lib"
      sum[k] += hex(size) }
    /^Linker script and memory map/ { inmap = 1; next }
    !inmap { next }
    /^\.text/ { intext = 1; next }
    /^\.[a-z]/ { intext = 0 }
    !intext { next }
    /^ \.text/ { if (NF >= 4) { add($3, $4); pending = 0 } else pending = 1; next }
    pending && /^ +0x/ { if (NF >= 3) add($2, $3); pending = 0 }
    END { printf "%d %d %d\n", sum["runtime"], sum["lib"], sum["harness"] }' "$1"
}

# golden input/expected output of the shared TFLM models (first input set), else none (zeros)
golden_args() {
  local g="$shared/golden/tflm-reference/$1"
  case "$1" in
    person_detect) echo "--input $g/in_person.bin --expect $g/out_person.bin" ;;
    micro_speech_quantized) echo "--input $g/in_000.bin --expect $g/out_000.bin" ;;
  esac
}

# deploy MODEL KERNELS -> work/NAME.KERNELS.{log,out} and .../fw/firmware.map; 1 on failure
deploy() {
  local name="$1" model="$2" kernels="$3"
  # shellcheck disable=SC2046
  "$cli" deploy "$model" --target rv32-qemu --kernels "$kernels" --timeout 1200 \
    $(golden_args "$name") --save-outputs "$work/$name.$kernels.out" \
    --out "$work/$name.$kernels.fw" >"$work/$name.$kernels.log" 2>&1
}

# per-operator-kind sums of a deploy log: "KIND instructions macs"
by_kind() {
  awk '/^ +[0-9]+  [A-Z_0-9]+ +[0-9]+/ { i[$2] += $3; if ($4 ~ /^[0-9]+$/) m[$2] += $4 }
       END { for (k in i) print k, i[k], m[k] + 0 }' "$1"
}

field() { sed -n "$2" "$1" | head -1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

results="$work/results.txt"
: >"$results"
for model in "${models[@]}"; do
  name="$(basename "$model" .tflite)"
  for k in reference optimized; do
    if ! deploy "$name" "$model" "$k"; then
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
    if grep -q 'every output matches --expect' "$log"; then pass="golden"; fi
    if [ "$k" = optimized ]; then
      if cmp -s "$work/$name.reference.out" "$work/$name.optimized.out"; then
        pass="$pass,same"; else pass="$pass,DIFFERENT"; fi
    fi
    echo "$name $k $instr ${macs:-0} $arena $pers $act ${low:-0} $text $rt $lib $hz $pass" >>"$results"
    by_kind "$log" | sed "s/^/$name $k KIND /" >>"$results"
  done
done

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
  echo "Models: \`lenet5_synth\` and \`fastestdet_synth\` are **synthetic** int8 models written by"
  echo "\`bench/synth_models.c\` with the IR and the .tflite writer: the layer structure of LeNet-5"
  echo "(28x28x1, conv 5x5x6, max pool, conv 5x5x16, max pool, FC 400-120-84-10, softmax) and of"
  echo "FastestDet at 128x86 (ShuffleNetV2 0.25x backbone with channel split/shuffle, P3/P4/P5 head,"
  echo "dw 5x5, 85 output channels), with random weights. They stand in until the trained LeNet-5"
  echo "and the imported FastestDet exist; set \`NML_BENCH_LENET5\` / \`NML_BENCH_FASTESTDET\` to their"
  echo ".tflite files and they are measured first. \`micro_speech_quantized\` and \`person_detect\`"
  echo "are the shared TFLM models."
  echo
  echo "## Instructions per inference"
  echo
  echo "| model | MACs | reference instr | optimized instr | speed-up | reference instr/MAC | optimized instr/MAC | outputs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  awk '$2 == "reference" && $3 != "KIND" && $3 != "FAILED" { r[$1] = $3; m[$1] = $4; ok[$1] = $13; order[++n] = $1 }
       $2 == "optimized" && $3 != "KIND" && $3 != "FAILED" { o[$1] = $3; ok2[$1] = $13 }
       END { for (i = 1; i <= n; i++) { k = order[i]
               printf "| %s | %d | %d | %d | %.2fx | %.2f | %.2f | %s / %s |\n", k, m[k], r[k], o[k],
                      o[k] ? r[k] / o[k] : 0, m[k] ? r[k] / m[k] : 0, m[k] ? o[k] / m[k] : 0,
                      ok[k], ok2[k] } }' "$results"
  echo
  echo "\"outputs\": golden = the firmware matched the TFLM golden output of the first input set"
  echo "bit for bit (PASS: ran, no expectation: the synthetic models run on an all-zero input);"
  echo "same = the optimized run's output bytes equal the reference run's."
  echo
  echo "Optimized kernels exist for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, LOGISTIC and"
  echo "SOFTMAX (int8); every other operator runs the same reference kernel in both columns, and both"
  echo "columns use the same planner (views share their input's buffer)."
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
  echo "## Memory and code"
  echo
  echo "Arena: the exact RV32 figure the runtime planned (\`N\` bytes work, \`N - 1\` fail), split into"
  echo "the persistent part (tensor and node tables, kernel data) and the activations; the lower bound"
  echo "is the most activation bytes live while one operator runs (no plan for this operator order"
  echo "can use less). Code: \`.text\` of the whole firmware, of the runtime's objects, and of"
  echo "libgcc + picolibc (soft-float and 64-bit division helpers, mostly pulled in by the runtime's"
  echo "prepare-time arithmetic; the harness's printf uses the 64-bit division too)."
  echo
  echo "| model | kernels | arena B | persistent B | activations B | activation lower bound B | firmware .text B | runtime .text B | libgcc+libc .text B |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk '$3 != "KIND" && $3 != "FAILED" { printf "| %s | %s | %d | %d | %d | %d | %d | %d | %d |\n", $1, $2, $5, $6, $7, $8, $9, $10, $11 }
       $3 == "FAILED" { printf "| %s | %s | failed: %s |\n", $1, $2, substr($0, index($0, $4)) }' "$results"
} >"$out"
echo "wrote $out"
