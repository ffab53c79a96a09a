#!/usr/bin/env bash
# The runtime on real RV32 code: `nanoml deploy --target rv32-qemu` builds the bare-metal
# RV32IMC firmware for each TFLM model, runs every golden input on qemu-system-riscv32 and the
# outputs must equal TensorFlow Lite Micro's reference outputs (../shared/golden/tflm-reference):
# bit for bit for int8 models (compared here on the host with cmp), within 1e-5 for float.
# Also checks the instruction counts are deterministic and the report is complete, and that the
# harness found the guard bytes around the arena (and its unused tail) intact after every invoke.
set -euo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
prefix="${NANOML_RISCV_PREFIX:-riscv64-unknown-elf-}"
qemu="${NANOML_QEMU:-qemu-system-riscv32}"
for tool in "${prefix}gcc" "$qemu"; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/setup.sh)"; exit 77; }
done
models="$shared/models/tflm"
golden="$shared/golden/tflm-reference"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ran=0

# usable MODEL: 0 when the runtime can plan it, else prints why and returns 1
usable() {
  if "$cli" export "$models/$1.tflite" --out "$work/probe" >"$work/probe.log" 2>&1; then
    return 0
  fi
  echo "skipping $1: the runtime cannot run it yet: $(tail -1 "$work/probe.log")"
  return 1
}

# deploy MODEL INPUTS EXPECTED -> work/MODEL.log, work/MODEL.got
deploy() {
  "$cli" deploy "$models/$1.tflite" --target rv32-qemu --input "$2" --expect "$3" \
    --save-outputs "$work/$1.got" --out "$work/build_$1" >"$work/$1.log" 2>&1 \
    || { cat "$work/$1.log"; return 1; }
  cat "$work/$1.log"
  grep -q '^result: PASS (every output matches --expect)$' "$work/$1.log"
}

check_report() { # MODEL SETS
  local log="$work/$1.log"
  grep -qE '^instructions per inference: [1-9][0-9]* ' "$log"
  if [ "$2" -gt 1 ]; then grep -qE "^  over $2 input sets: min [0-9]+" "$log"; fi
  grep -qE '^  \.text +[1-9][0-9]* B' "$log"
  grep -qE '^  arena +[1-9][0-9]* B  used on RV32' "$log"
  grep -qE '^  stack +[1-9][0-9]* B  peak' "$log"
  grep -qE '^  LINKER=on_chip +RAM +[0-9]+ B' "$log"
}

# --- hello_world_int8: all 256 golden inputs, bit-exact
if usable hello_world_int8; then
  cat "$golden"/hello_world_int8/in_[0-9]*.bin >"$work/hw.in"
  cat "$golden"/hello_world_int8/out_[0-9]*.bin >"$work/hw.out"
  deploy hello_world_int8 "$work/hw.in" "$work/hw.out"
  cmp "$work/hello_world_int8.got" "$work/hw.out"
  check_report hello_world_int8 256
  # the generated resolver links exactly the model's kernel, no other: the optimized one by
  # default, in its int8-only variant (every node is plain int8), so neither the reference
  # kernel nor the reference evaluation it would fall back to is linked
  kernels="$("${prefix}nm" "$work/build_hello_world_int8/firmware.elf" | awk '$3 ~ /^nml_kernel_/ && $2 ~ /^[Rr]$/ {print $3}')"
  [ "$kernels" = "nml_kernel_fully_connected_opt_int8" ] || { echo "kernels linked: $kernels"; exit 1; }
  if "${prefix}nm" "$work/build_hello_world_int8/firmware.elf" | grep -qE ' (nml_fc_eval_ref|nml_fc_setup)$'; then
    echo "the int8-only firmware links the reference FULLY_CONNECTED evaluation"; exit 1
  fi
  # three dense layers 1->16->16->1: 16, 256 and 16 MACs
  if ! grep -q 'MACs unavailable' "$work/hello_world_int8.log"; then
    grep -qE '^ +0  FULLY_CONNECTED +[0-9]+ +16 ' "$work/hello_world_int8.log"
    grep -qE '^ +1  FULLY_CONNECTED +[0-9]+ +256 ' "$work/hello_world_int8.log"
    grep -qE '^ +2  FULLY_CONNECTED +[0-9]+ +16 ' "$work/hello_world_int8.log"
  fi
  # minstret under -icount shift=0 is the same run to run: run the same ELF again
  cp "$work/hello_world_int8.log" "$work/hw.first.log"
  rerun="$(timeout 60 "$qemu" -machine virt -bios none -m 32M -display none -serial stdio \
           -monitor none -icount shift=0 -kernel "$work/build_hello_world_int8/firmware.elf" </dev/null)"
  first="$(sed -n 's/^instructions per inference: \([0-9]*\) .*/\1/p' "$work/hw.first.log")"
  second="$(sed -n 's/^nml: run 0 instret \([0-9]*\) .*/\1/p' <<<"$rerun")"
  [ -n "$first" ] && [ "$first" = "$second" ] || { echo "instruction counts differ: '$first' vs '$second'"; exit 1; }
  [ "$(grep -c '^nml: run ' <<<"$rerun")" -eq 256 ]
  # the guard bytes around the arena and its unused tail were checked after init, after each
  # of the 256 invokes and after the profiling invoke, all intact (else the run would FAIL)
  grep -qE '^nml: guard intact checks 258 guard_bytes 64 tail [0-9]+' <<<"$rerun" ||
    { echo "guard checks missing: $(grep '^nml: guard' <<<"$rerun")"; exit 1; }
  # the exact RV32 arena is within the 64-bit host plan
  host="$(sed -n 's/.*arena \([0-9]*\) bytes (64-bit host plan.*/\1/p' "$work/probe.log")"
  rv32="$(sed -n 's/^  arena *\([0-9]*\) B  used on RV32.*/\1/p' "$work/hw.first.log")"
  [ "$rv32" -le "$host" ] || { echo "RV32 arena $rv32 exceeds the host plan $host"; exit 1; }
  ran=$((ran + 1))
fi

# --- hello_world_float: 64 inputs, within 1e-5 (the firmware compares; check again here)
if usable hello_world_float; then
  cat "$golden"/hello_world_float/in_[0-9]*.bin >"$work/hwf.in"
  cat "$golden"/hello_world_float/out_[0-9]*.bin >"$work/hwf.out"
  deploy hello_world_float "$work/hwf.in" "$work/hwf.out"
  paste <(od -An -v -w4 -tf4 "$work/hello_world_float.got") <(od -An -v -w4 -tf4 "$work/hwf.out") |
    awk '{d = $1 - $2; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; if (m < 1) m = 1;
          if (d > 1e-5 * m) { print "float output " NR ": " $1 " vs " $2; bad = 1 } }
         END { exit bad }'
  check_report hello_world_float 64
  ran=$((ran + 1))
fi

# --- simple_add: two inputs per set, concatenated in input order
if usable simple_add_model; then
  : >"$work/add.in"
  for f in "$golden"/simple_add_model/in0_*.bin; do
    cat "$f" "${f/in0_/in1_}" >>"$work/add.in"
  done
  cat "$golden"/simple_add_model/out_[0-9]*.bin >"$work/add.out"
  deploy simple_add_model "$work/add.in" "$work/add.out"
  cmp "$work/simple_add_model.got" "$work/add.out"
  ran=$((ran + 1))
fi

# --- micro_speech: every golden input (depthwise with depth multiplier 8, fully connected)
if usable micro_speech_quantized; then
  cat "$golden"/micro_speech_quantized/in_[0-9]*.bin >"$work/ms.in"
  cat "$golden"/micro_speech_quantized/out_[0-9]*.bin >"$work/ms.out"
  deploy micro_speech_quantized "$work/ms.in" "$work/ms.out"
  cmp "$work/micro_speech_quantized.got" "$work/ms.out"
  ran=$((ran + 1))
fi

# --- person_detect: the two TFLM test pictures
if usable person_detect; then
  cat "$golden/person_detect/in_person.bin" "$golden/person_detect/in_no_person.bin" >"$work/pd.in"
  cat "$golden/person_detect/out_person.bin" "$golden/person_detect/out_no_person.bin" >"$work/pd.out"
  deploy person_detect "$work/pd.in" "$work/pd.out"
  cmp "$work/person_detect.got" "$work/pd.out"
  check_report person_detect 2
  # the reference kernels (the oracle of the optimized ones) give the same bytes on RV32 too
  "$cli" deploy "$models/person_detect.tflite" --target rv32-qemu --kernels reference \
    --input "$work/pd.in" --expect "$work/pd.out" --save-outputs "$work/pd_ref.got" \
    >"$work/pd_ref.log" 2>&1 || { cat "$work/pd_ref.log"; exit 1; }
  grep -q '^kernels: reference$' "$work/pd_ref.log"
  cmp "$work/pd_ref.got" "$work/pd.out"
  ran=$((ran + 1))
fi

# --- --lto (link-time optimization, opt-in): the same golden outputs from a smaller runtime
if usable micro_speech_quantized; then
  cat "$golden"/micro_speech_quantized/in_00[0-3].bin >"$work/lto.in"
  cat "$golden"/micro_speech_quantized/out_00[0-3].bin >"$work/lto.out"
  "$cli" deploy "$models/micro_speech_quantized.tflite" --target rv32-qemu --lto --input "$work/lto.in" \
    --expect "$work/lto.out" --save-outputs "$work/lto.got" --out "$work/build_lto" >"$work/lto.log" 2>&1 ||
    { cat "$work/lto.log"; exit 1; }
  grep -q '^result: PASS (every output matches --expect)$' "$work/lto.log" || { cat "$work/lto.log"; exit 1; }
  cmp "$work/lto.got" "$work/lto.out"
  grep -q 'ltrans' "$work/build_lto/firmware.map" || { echo "--lto built without LTO"; exit 1; }
fi

# --- a wrong expectation must fail the firmware (the comparison can fail)
if usable hello_world_int8; then
  printf '\x7f' >"$work/wrong.out"
  if "$cli" deploy "$models/hello_world_int8.tflite" --target rv32-qemu \
       --input "$golden/hello_world_int8/in_000.bin" --expect "$work/wrong.out" >"$work/wrong.log" 2>&1; then
    echo "a wrong expected output was accepted"; cat "$work/wrong.log"; exit 1
  fi
  grep -q '1 outputs differ' "$work/wrong.log"
fi

if [ "$ran" -eq 0 ]; then
  echo "SKIP: the runtime cannot run any TFLM model yet"; exit 77
fi
echo "ok: $ran models on RV32 under QEMU match the TFLM golden outputs"
