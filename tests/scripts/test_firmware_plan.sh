#!/usr/bin/env bash
# `nanoml deploy --plan-at-export`: the host's arena plan is written into the model sources and
# the firmware initializes with it (nml_interpreter_init_planned), so it links no memory
# planner. On RV32 under QEMU: person_detect (default build) and micro_speech (--lto
# --compact-errors) give the TensorFlow Lite Micro golden outputs; person_detect reports the
# same arena, persistent/activation split, lower bound and instructions per inference as the
# planner's build, with less code; the ELF has no planner symbol (the planner's build has them);
# the X-HEEP application folder initializes with the plan, builds X-HEEP's way and prints the
# TFLM golden output.
set -euo pipefail
cli="${NML_CLI:?}"
src="${NML_SOURCE_DIR:?}"
shared="${NML_SHARED_DIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/firmware_lib.sh"
fw_require_tools
tflm="$shared/models/tflm"
golden="$shared/golden/tflm-reference"
[ -f "$golden/person_detect/in_person.bin" ] || { echo "SKIP: no TFLM golden data"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The planner's functions in an ELF, by name (nm lists every global function that was linked).
planner_symbols() { "${fw_prefix}nm" "$1" | grep -cE ' [Tt] nml_plan_(lifetimes|aliases|offsets)$' || true; }

pd="$tflm/person_detect.tflite"
fw_deploy_expect "$cli" "$pd" "$golden/person_detect/in_person.bin" \
  "$golden/person_detect/out_person.bin" "$work/planner.log"
"$cli" deploy "$pd" --target rv32-qemu --input "$golden/person_detect/in_no_person.bin" \
  --expect "$golden/person_detect/out_no_person.bin" --plan-at-export --save-outputs "$work/np.got" \
  --out "$work/plan.log.d" >"$work/plan.log" 2>&1 || { cat "$work/plan.log"; exit 1; }
grep -q '^result: PASS (every output matches --expect)$' "$work/plan.log" || { cat "$work/plan.log"; exit 1; }
cmp "$work/np.got" "$golden/person_detect/out_no_person.bin"
"$cli" deploy "$pd" --target rv32-qemu --input "$golden/person_detect/in_person.bin" \
  --expect "$golden/person_detect/out_person.bin" --plan-at-export --out "$work/plan_p.log.d" \
  >"$work/plan_p.log" 2>&1 || { cat "$work/plan_p.log"; exit 1; }
grep -q '^result: PASS (every output matches --expect)$' "$work/plan_p.log"

# the plan is in the generated model and used by the harness
grep -q 'const nml_arena_plan person_detect_arena_plan' "$work/plan_p.log.d/gen/person_detect_model.c"
grep -q '#define PERSON_DETECT_PLAN_ACTIVATION_BYTES' "$work/plan_p.log.d/gen/person_detect_model.h"
# no planner in the planned firmware; the planner's build shows the check can fail
[ "$(planner_symbols "$work/plan_p.log.d/firmware.elf")" -eq 0 ] ||
  { echo "FAIL: the firmware with an export-time plan links the planner"; exit 1; }
[ "$(planner_symbols "$work/planner.log.d/firmware.elf")" -eq 3 ] ||
  { echo "FAIL: the planner's firmware should show nml_plan_lifetimes/aliases/offsets"; exit 1; }

# the same memory report and instructions per inference as the planner's firmware
mem() { grep -E '^  arena |^ *activations lower bound' "$1"; }
diff <(mem "$work/planner.log") <(mem "$work/plan_p.log") ||
  { echo "FAIL: the memory report differs with the export-time plan"; exit 1; }
[ "$(fw_instructions "$work/planner.log")" = "$(fw_instructions "$work/plan_p.log")" ] ||
  { echo "FAIL: instructions per inference differ"; exit 1; }
text() { sed -n 's/^  \.text *\([0-9]*\) B.*/\1/p' "$1"; }
t0="$(text "$work/planner.log")"
t1="$(text "$work/plan_p.log")"
[ "$t1" -lt "$t0" ] || { echo "FAIL: .text $t1 B with the plan, $t0 B without"; exit 1; }

# micro_speech with --lto --compact-errors
ms="$tflm/micro_speech_quantized.tflite"
"$cli" deploy "$ms" --target rv32-qemu --input "$golden/micro_speech_quantized/in_000.bin" \
  --expect "$golden/micro_speech_quantized/out_000.bin" --plan-at-export --lto --compact-errors \
  --out "$work/ms.d" >"$work/ms.log" 2>&1 || { cat "$work/ms.log"; exit 1; }
grep -q '^result: PASS (every output matches --expect)$' "$work/ms.log" || { cat "$work/ms.log"; exit 1; }
[ "$(planner_symbols "$work/ms.d/firmware.elf")" -eq 0 ] ||
  { echo "FAIL: the LTO firmware with an export-time plan links the planner"; exit 1; }

# the X-HEEP application folder: built X-HEEP's way (as test_deploy_xheep_app.sh), run on QEMU
app="$work/sw/applications/nanoml_hello"
"$cli" deploy "$tflm/hello_world_int8.tflite" --target xheep --out "$app" --name hello \
  --input "$golden/hello_world_int8/in_007.bin" --plan-at-export >"$work/xheep.log" 2>&1 ||
  { cat "$work/xheep.log"; exit 1; }
grep -q 'nml_interpreter_init_planned' "$app/main.c"
grep -q 'const nml_arena_plan hello_arena_plan' "$app/hello_model.c"
grep -q 'Arena plan (`--plan-at-export`)' "$app/README.md"
mapfile -t sources < <(find "$app" -name '*.c' | sort)
mapfile -t incdirs < <(find "$app" -name '*.h' -printf '%h\n' | sort -u)
cflags=(--specs=picolibc.specs -march=rv32imc_zicsr -mabi=ilp32 -O2 -w -ffunction-sections
        -fdata-sections -I"$app" -I"$src/firmware")
for d in "${incdirs[@]}"; do cflags+=(-I"$d"); done
objs=()
for f in "${sources[@]}" "$src/firmware/stdio_uart.c" "$src/firmware/fw_platform.c" \
         "$src/firmware/fw_printf.c" "$src/firmware/crt0.S"; do
  o="$work/obj_$(echo "${f#"$work"/}" | tr '/' '_').o"
  "${fw_prefix}gcc" "${cflags[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
"${fw_prefix}gcc" --specs=picolibc.specs -march=rv32imc -mabi=ilp32 -nostartfiles \
  -T "$src/firmware/link.ld" -Wl,--gc-sections "${objs[@]}" -lm -o "$work/app.elf"
[ "$(planner_symbols "$work/app.elf")" -eq 0 ] ||
  { echo "FAIL: the X-HEEP application with an export-time plan links the planner"; exit 1; }
out="$(timeout 60 "$fw_qemu" -machine virt -bios none -m 32M -display none -serial stdio \
       -monitor none -icount shift=0 -kernel "$work/app.elf" </dev/null)"
expected="$(od -An -td1 "$golden/hello_world_int8/out_007.bin" | tr -s ' ' | sed 's/^ //;s/ $//')"
grep -qx "output 0 (int8, 1 bytes): $expected" <<<"$out" ||
  { echo "$out"; echo "expected output value $expected (TFLM golden out_007.bin)"; exit 1; }

echo "ok: --plan-at-export: person_detect and micro_speech (--lto --compact-errors) give the" \
     "TFLM goldens on RV32 without the planner; person_detect .text $t0 -> $t1 B, same arena," \
     "lower bound and $(fw_instructions "$work/plan_p.log") instructions; the X-HEEP app too"
