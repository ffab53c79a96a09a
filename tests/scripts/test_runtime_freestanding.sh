#!/usr/bin/env bash
# "No malloc, no stdio", proven on the real target: compiles every file of src/runtime (and its
# kernels) freestanding for RV32IMC with the project's warnings as errors, links them into one
# relocatable object and checks that everything it still needs from outside is only
#   - memcpy / memset / memmove,
#   - helpers defined by the RV32 libgcc (64-bit division, soft-float arithmetic, ...),
#   - math functions, i.e. symbols defined by picolibc's libm members (float kernels only).
# It also checks that runtime sources include only the headers docs/CONVENTIONS.md allows.
set -euo pipefail
src="${NML_SOURCE_DIR:?}"
prefix="${NANOML_RISCV_PREFIX:-riscv64-unknown-elf-}"
for tool in gcc ld nm ar; do
  if ! command -v "${prefix}$tool" >/dev/null; then
    echo "SKIP: ${prefix}$tool not installed (scripts/setup.sh installs gcc-riscv64-unknown-elf)"
    exit 77
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. includes: only the freestanding set, <string.h> and <math.h>
allowed='stdint.h|stddef.h|stdbool.h|stdarg.h|limits.h|float.h|string.h|math.h'
bad="$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$src/src/runtime" \
        --include='*.c' --include='*.h' | grep -vE "<($allowed)>" || true)"
if [ -n "$bad" ]; then
  echo "runtime includes headers outside the freestanding set:"; echo "$bad"; exit 1
fi

# 2. compile everything, freestanding, warnings as errors
mapfile -t sources < <(find "$src/src/runtime" -name '*.c' | sort)
[ "${#sources[@]}" -gt 0 ] || { echo "no runtime sources found under $src/src/runtime"; exit 1; }
cflags=(--specs=picolibc.specs -march=rv32imc_zicsr -mabi=ilp32 -ffreestanding -std=c11 -Os
        -ffunction-sections -fdata-sections
        -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
        -Wvla -Wno-missing-field-initializers -Werror -I"$src/include" -I"$src/src/runtime")
objects=()
for f in "${sources[@]}"; do
  rel="${f#"$src"/}"
  obj="$work/$(echo "$rel" | tr '/' '_').o"
  "${prefix}gcc" "${cflags[@]}" -c "$f" -o "$obj"
  objects+=("$obj")
done
echo "compiled ${#objects[@]} runtime files for rv32imc (-ffreestanding -Werror)"

# 3. link into one object; what is still undefined must come from the allowed places
"${prefix}ld" -m elf32lriscv -r -o "$work/runtime.o" "${objects[@]}"
"${prefix}nm" -u "$work/runtime.o" | awk '{print $2}' | sort -u >"$work/undefined.txt"

libgcc="$("${prefix}gcc" -march=rv32imc -mabi=ilp32 -print-libgcc-file-name)"
"${prefix}nm" --defined-only "$libgcc" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TW]$/ {print $3}' \
  | sort -u >"$work/libgcc.txt"
# ask the linker which picolibc libc.a an rv32imc program links
echo 'int main(void) { return 0; }' >"$work/probe.c"
libc="$("${prefix}gcc" --specs=picolibc.specs -march=rv32imc -mabi=ilp32 -Wl,--trace \
        "$work/probe.c" -o "$work/probe.elf" 2>/dev/null | grep -m1 '/libc\.a$' || true)"
[ -n "$libc" ] && [ -f "$libc" ] || { echo "picolibc's libc.a not found (picolibc-riscv64-unknown-elf)"; exit 1; }
# picolibc keeps its libm inside libc.a, in members named libm_*
"${prefix}nm" -A --defined-only "$libc" 2>/dev/null \
  | awk '{split($1, p, ":"); if (p[2] ~ /^libm_/ && $2 ~ /^[TW]$/) print $3}' \
  | sort -u >"$work/libm.txt"
[ -s "$work/libgcc.txt" ] && [ -s "$work/libm.txt" ] || { echo "could not list libgcc/libm"; exit 1; }

status=0
while read -r sym; do
  [ -n "$sym" ] || continue
  case "$sym" in
    memcpy|memset|memmove) kind="string" ;;
    *)
      if grep -qx "$sym" "$work/libgcc.txt"; then kind="libgcc"
      elif grep -qx "$sym" "$work/libm.txt"; then kind="libm"
      else kind=""; fi ;;
  esac
  if [ -z "$kind" ]; then
    echo "FORBIDDEN: the runtime needs '$sym' (not memcpy/memset/memmove, libgcc or libm)"
    status=1
  else
    echo "  $sym ($kind)"
  fi
done <"$work/undefined.txt"
[ "$status" -eq 0 ] && echo "ok: the runtime needs nothing beyond memcpy/memset/memmove, libgcc and libm"
exit "$status"
