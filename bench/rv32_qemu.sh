#!/usr/bin/env bash
# Instructions and memory of the TFLM models on RV32IMC (bare-metal firmware under QEMU,
# minstret with -icount shift=0, so every number is exact and repeatable).
# usage: bench/rv32_qemu.sh [BUILD_DIR] [--opt -O2]   (default build/, -Os)
# Prints one Markdown table row per model; the numbers in bench/README.md come from here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
shift || true
cli="$build/nanoml"
shared="${NML_SHARED_DIR:-$here/../shared}"
models="$shared/models/tflm"
golden="$shared/golden/tflm-reference"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

inputs() { # MODEL -> work/MODEL.in (every golden input set, in file order)
  local m="$1" d="$golden/$1"
  : >"$work/$m.in"
  if [ "$m" = simple_add_model ]; then
    for f in "$d"/in0_*.bin; do cat "$f" "${f/in0_/in1_}" >>"$work/$m.in"; done
  elif [ "$m" = person_detect ]; then
    cat "$d/in_person.bin" "$d/in_no_person.bin" >"$work/$m.in"
  else
    cat "$d"/in_[0-9]*.bin >"$work/$m.in"
  fi
}

echo "| model | MACs | instructions / inference | instr / MAC | .text B | arena B (RV32) | stack B | X-HEEP on_chip | X-HEEP flash_exec |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
for m in hello_world_int8 hello_world_float micro_speech_quantized simple_add_model person_detect; do
  [ -f "$models/$m.tflite" ] || continue
  inputs "$m"
  if ! "$cli" deploy "$models/$m.tflite" --target rv32-qemu --input "$work/$m.in" "$@" \
       >"$work/$m.log" 2>&1; then
    echo "| $m | failed: $(tail -1 "$work/$m.log") |"
    continue
  fi
  log="$work/$m.log"
  instr="$(sed -n 's/^instructions per inference: \([0-9]*\).*/\1/p' "$log")"
  total="$(grep -E '^ +total ' "$log" || true)"
  macs="$(awk '{print $3}' <<<"$total")"
  ratio="n/a"
  if [[ "$macs" =~ ^[0-9]+$ ]] && [ "$macs" -gt 0 ]; then
    ratio="$(awk -v i="$instr" -v m="$macs" 'BEGIN { printf "%.1f", i / m }')"
  else macs="n/a"; fi
  text="$(sed -n 's/^  \.text *\([0-9]*\) B.*/\1/p' "$log")"
  arena="$(sed -n 's/^  arena *\([0-9]*\) B.*/\1/p' "$log")"
  stack="$(sed -n 's/^  stack *\([0-9]*\) B.*/\1/p' "$log")"
  onchip="$(sed -n 's/^  LINKER=on_chip .*-> \(.*\)$/\1/p' "$log")"
  fexec="$(sed -n 's/^  LINKER=flash_exec .*-> \(.*\)$/\1/p' "$log")"
  echo "| $m | $macs | $instr | $ratio | $text | $arena | $stack | $onchip | $fexec |"
done
