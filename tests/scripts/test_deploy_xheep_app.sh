#!/usr/bin/env bash
# `nanoml deploy --target xheep` writes an application folder laid out like X-HEEP's
# sw/applications/<app>/. This test builds that folder the way X-HEEP's sw/CMakeLists.txt does
# (every .c below the folder; every folder holding a header on the include path; -O2), links it
# with the harness's crt0 and a stdout on the UART in place of X-HEEP's BSP, runs it on QEMU and
# checks the printed output against the TensorFlow Lite Micro golden output.
set -euo pipefail
cli="${NML_CLI:?}"
src="${NML_SOURCE_DIR:?}"
shared="${NML_SHARED_DIR:?}"
prefix="${NANOML_RISCV_PREFIX:-riscv64-unknown-elf-}"
qemu="${NANOML_QEMU:-qemu-system-riscv32}"
for tool in "${prefix}gcc" "$qemu"; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/setup.sh)"; exit 77; }
done
model="$shared/models/tflm/hello_world_int8.tflite"
golden="$shared/golden/tflm-reference/hello_world_int8"
[ -f "$model" ] || { echo "SKIP: $model missing"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! "$cli" export "$model" --out "$work/probe" >"$work/probe.log" 2>&1; then
  echo "SKIP: the runtime cannot analyze hello_world_int8 yet: $(tail -1 "$work/probe.log")"
  exit 77
fi

app="$work/sw/applications/nanoml_hello"
"$cli" deploy "$model" --target xheep --out "$app" --name hello \
  --input "$golden/in_007.bin" | tee "$work/deploy.log"
for f in main.c hello_model.h hello_model.c input.c nanoml.mk README.md nanoml/include/nanoml.h \
         nanoml/include/nanoml/runtime.h nanoml/src/runtime/interpreter.c; do
  [ -f "$app/$f" ] || { echo "missing $f in the application folder"; exit 1; }
done
# the arena written for X-HEEP is the exact RV32 figure measured under QEMU, below the 64-bit plan
grep -q 'measured by running the model' "$app/hello_model.h"

# nanoml.mk carries the runtime trims hello_world allows (FULLY_CONNECTED alone: no packed, int4
# or variable tensor, no custom operator, no list options), the ones nanoml deploy compiles with
mkflags="$(grep '^NANOML_CFLAGS' "$app/nanoml.mk")"
for d in NML_OPTIONS_BY_KERNELS NML_NO_PACKED_WEIGHTS NML_NO_OPTIONS_EXTRA NML_NO_CUSTOM_OPS \
         NML_NO_VARIABLES NML_NO_INT4; do
  grep -q -- "-D$d " <<<"$mkflags" || { echo "nanoml.mk lacks -D$d: $mkflags"; exit 1; }
done
mapfile -t mkdefs < <(grep -o -- '-DNML_[A-Z0-9_]*' <<<"$mkflags")

# the X-HEEP build, as sw/CMakeLists.txt does it (with nanoml.mk's defines, as an application
# including the fragment gets them)
mapfile -t sources < <(find "$app" -name '*.c' | sort)
mapfile -t incdirs < <(find "$app" -name '*.h' -printf '%h\n' | sort -u)
cflags=(--specs=picolibc.specs -march=rv32imc_zicsr -mabi=ilp32 -O2 -w -ffunction-sections
        -fdata-sections -I"$app" -I"$src/firmware" "${mkdefs[@]}")
for d in "${incdirs[@]}"; do cflags+=(-I"$d"); done
objs=()
for f in "${sources[@]}" "$src/firmware/stdio_uart.c" "$src/firmware/fw_platform.c" \
         "$src/firmware/fw_printf.c" "$src/firmware/crt0.S"; do
  o="$work/obj_$(echo "${f#"$work"/}" | tr '/' '_').o"
  "${prefix}gcc" "${cflags[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
"${prefix}gcc" --specs=picolibc.specs -march=rv32imc -mabi=ilp32 -nostartfiles \
  -T "$src/firmware/link.ld" -Wl,--gc-sections "${objs[@]}" -lm -o "$work/app.elf"
out="$(timeout 60 "$qemu" -machine virt -bios none -m 32M -display none -serial stdio \
       -monitor none -icount shift=0 -kernel "$work/app.elf" </dev/null)"
echo "$out"

expected="$(od -An -td1 "$golden/out_007.bin" | tr -s ' ' | sed 's/^ //;s/ $//')"
grep -qx "output 0 (int8, 1 bytes): $expected" <<<"$out" \
  || { echo "expected output value $expected (TFLM golden out_007.bin)"; exit 1; }
grep -qE '^inference: [0-9]+ instructions, [0-9]+ cycles$' <<<"$out"
[ "$(grep -cE '^op [0-9]+ FULLY_CONNECTED: [0-9]+ instructions$' <<<"$out")" -eq 3 ]

# a model that cannot fit is refused with the numbers
if "$cli" deploy "$shared/models/tflm/person_detect.tflite" --target xheep-64k \
     --out "$work/too_big" >"$work/refuse.log" 2>&1; then
  echo "person_detect (300 KB of weights) was accepted for a 64 KiB X-HEEP"; exit 1
fi
cat "$work/refuse.log"
grep -q 'does not fit xheep-64k (LINKER=on_chip): needs [0-9]* bytes of RAM' "$work/refuse.log"
[ ! -e "$work/too_big/main.c" ]
echo "ok: the X-HEEP application builds X-HEEP's way and prints the TFLM golden output"
