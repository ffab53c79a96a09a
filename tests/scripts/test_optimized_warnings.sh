#!/usr/bin/env bash
# The test builds compile without optimization (plain) or for the sanitizers, where gcc's
# flow analysis warnings (-Wmaybe-uninitialized and friends) do not fire; the Release build,
# the study scripts' build and `nanoml deploy --opt -O2` do optimize. So every source compiles
# here with the project's warnings as errors at -O2 and -O3 (host gcc), and every runtime
# source at -O2 and -Os for rv32imc when the cross compiler is installed.
# Runs in the plain build only (skipped, 77, in the sanitizer build: the same compilations).
set -euo pipefail
if [ "${NML_SANITIZE:-OFF}" = ON ]; then
  echo "SKIP: same compilations as the plain build's run"
  exit 77
fi
src="${NML_SOURCE_DIR:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# the warnings of CMakeLists.txt (NML_WARNINGS) and its host definitions
warnings=(-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
  -Wvla -Wno-missing-field-initializers -Werror)
includes=(-I"$src/include" -I"$src/src" -I"$src/src/runtime" -I/usr/include/stb)
mapfile -t host < <(find "$src/src" "$src/tools/nanoml" -name '*.c' | sort)
mapfile -t runtime < <(find "$src/src/runtime" -name '*.c' | sort)
failed=0
compile() { # LABEL COMPILER FLAGS... -- FILES...
  local label="$1" cc="$2" flags=() n=0
  shift 2
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  for f in "$@"; do
    if ! "$cc" "${flags[@]}" -c "$f" -o "$work/x.o" 2>"$work/err"; then
      echo "FAIL ($label): ${f#"$src"/}"
      head -20 "$work/err"
      failed=1
    fi
    n=$((n + 1))
  done
  echo "$label: $n files"
}
for opt in -O2 -O3; do
  compile "host gcc $opt" gcc -std=c11 -D_POSIX_C_SOURCE=200809L -DNML_VERSION=\"test\" "$opt" \
    "${warnings[@]}" \
    "${includes[@]}" -- "${host[@]}"
done
cross="${NANOML_RISCV_PREFIX:-riscv64-unknown-elf-}gcc"
if command -v "$cross" >/dev/null; then
  for opt in -O2 -Os; do
    compile "rv32imc $opt" "$cross" --specs=picolibc.specs -march=rv32imc_zicsr -mabi=ilp32 \
      -ffreestanding -std=c11 "$opt" "${warnings[@]}" -I"$src/include" -I"$src/src/runtime" \
      -- "${runtime[@]}"
  done
else
  echo "no $cross: the rv32imc compilations are not run"
fi
[ "$failed" -eq 0 ] || exit 1
echo "PASS"
