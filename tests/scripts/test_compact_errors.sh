#!/usr/bin/env bash
# Compact errors (NML_COMPACT_ERRORS, `nanoml deploy --compact-errors`) drop the detail text of
# errors, not the checks:
#  - seeded mutants of every shared TFLM model (truncations, bit flips, hostile 32-bit values)
#    go through the runtime library (tests/tools/runtime_mutants.c: load, init with every
#    kernel between guard bytes, invoke) built twice, normally and with compact errors. Both
#    builds must give every mutant the same verdict and status, neither may write outside its
#    arena, and a compact message must be the normal message's context ("operator 12: ",
#    "tensor 3: quantization: ", ...) followed by the status's name ("malformed input").
#  - on RV32 (when the cross compiler and QEMU are installed): every runtime file compiles with
#    NML_COMPACT_ERRORS and warnings as errors; person_detect deployed with
#    --compact-errors still gives TFLite Micro's golden outputs bit for bit, with less code
#    than the default build.
set -euo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
: "${NML_BINARY_DIR:?}"
full="$NML_BINARY_DIR/tests/runtime_mutants"
compact="$NML_BINARY_DIR/tests/runtime_mutants_compact"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# nml_status_str of each status code (include/nanoml/status.h)
names='1=bad argument;2=malformed input;3=unsupported;4=shape mismatch;5=arena too small;6=limit exceeded;7=i/o error;8=out of memory;9=bad state;10=internal error'

total=0
for spec in hello_world_int8:400 hello_world_float:400 micro_speech_quantized:400 \
  simple_add_model:400 person_detect:200; do
  model="${spec%%:*}" trials="${spec##*:}"
  path="$shared/models/tflm/$model.tflite"
  [ -f "$path" ] || { echo "skipping $model: $path missing"; continue; }
  "$full" "$path" "$trials" 9 >"$work/$model.full" || fail "$model: the normal runtime failed"
  "$compact" "$path" "$trials" 9 >"$work/$model.compact" ||
    fail "$model: the compact-errors runtime failed"
  paste -d '\t' "$work/$model.full" "$work/$model.compact" | awk -F '\t' -v names="$names" -v m="$model" '
    BEGIN { n = split(names, kv, ";"); for (i = 1; i <= n; i++) { split(kv[i], p, "="); name[p[1]] = p[2] } }
    { split($1, a, " "); split($2, b, " ")
      if (a[1] != b[1]) { print m ": trial lists differ at line " NR; bad = 1; exit 1 }
      if (a[2] != b[2]) { print m ": trial " a[1] ": status " a[2] " normally, " b[2] " compact"; bad = 1; exit 1 }
      if (a[2] == 0) { ran++; next }
      rejected++
      fmsg = substr($1, length(a[1]) + length(a[2]) + 3); cmsg = substr($2, length(b[1]) + length(b[2]) + 3)
      want = name[a[2]]
      if (want == "" || substr(cmsg, length(cmsg) - length(want) + 1) != want) {
        print m ": trial " a[1] ": compact message \"" cmsg "\" does not end with \"" want "\""; bad = 1; exit 1 }
      where = substr(cmsg, 1, length(cmsg) - length(want))
      if (substr(fmsg, 1, length(where)) != where) {
        print m ": trial " a[1] ": compact context \"" where "\" is not that of \"" fmsg "\""; bad = 1; exit 1 }
      if (where != "") placed++ }
    END { if (!bad) printf "%s: %d mutants, %d rejected with the same status (%d naming where), %d ran\n", m, NR, rejected, placed, ran }' ||
    exit 1
  total=$((total + trials))
done
[ "$total" -gt 0 ] || { echo "SKIP: no shared TFLM models"; exit 77; }
# the mutants must have exercised both outcomes
grep -qv ' 0 $' "$work"/*.full || fail "no mutant was rejected"
grep -q ' 0 $' "$work"/*.full || fail "no mutant ran"

# --- RV32: person_detect with --compact-errors, TFLM golden outputs
source "$(dirname "${BASH_SOURCE[0]}")/firmware_lib.sh"
fw_require_tools
# every runtime file compiles for rv32imc with compact errors and the project's warnings as
# errors (an argument only a message used, a label built for it, must not warn)
src="${NML_SOURCE_DIR:?}"
mapfile -t sources < <(find "$src/src/runtime" -name '*.c' | sort)
for f in "${sources[@]}"; do
  "${fw_prefix}gcc" --specs=picolibc.specs -march=rv32imc_zicsr -mabi=ilp32 -ffreestanding \
    -std=c11 -Os -DNML_COMPACT_ERRORS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
    -Wmissing-prototypes -Wformat=2 -Wvla -Wno-missing-field-initializers -Werror \
    -I"$src/include" -I"$src/src/runtime" -c "$f" -o "$work/compact.o" ||
    fail "$f does not compile cleanly with NML_COMPACT_ERRORS"
done
echo "compiled ${#sources[@]} runtime files for rv32imc with NML_COMPACT_ERRORS (-Werror)"

golden="$shared/golden/tflm-reference/person_detect"
model="$shared/models/tflm/person_detect.tflite"
[ -f "$golden/in_person.bin" ] || { echo "SKIP: no person_detect golden data"; exit 77; }
cat "$golden/in_person.bin" "$golden/in_no_person.bin" >"$work/pd.in"
cat "$golden/out_person.bin" "$golden/out_no_person.bin" >"$work/pd.out"
for mode in default compact; do
  extra=()
  [ "$mode" = compact ] && extra=(--compact-errors)
  "$cli" deploy "$model" --target rv32-qemu --input "$work/pd.in" --expect "$work/pd.out" \
    --save-outputs "$work/$mode.got" --out "$work/$mode.fw" "${extra[@]}" >"$work/$mode.log" 2>&1 ||
    { cat "$work/$mode.log"; fail "deploy ($mode)"; }
  grep -q '^result: PASS (every output matches --expect)$' "$work/$mode.log" ||
    { cat "$work/$mode.log"; fail "$mode: the firmware did not report a match"; }
  cmp "$work/$mode.got" "$work/pd.out" || fail "$mode: outputs differ from TFLite Micro's"
done
text() { sed -n 's/^  \.text *\([0-9]*\) B.*/\1/p' "$1"; }
t_default="$(text "$work/default.log")" t_compact="$(text "$work/compact.log")"
[ -n "$t_default" ] && [ -n "$t_compact" ] || fail "no .text in the deploy reports"
[ "$t_compact" -lt "$t_default" ] ||
  fail "--compact-errors did not shrink the code ($t_compact B vs $t_default B)"
# no error site calls the formatting nml_fail in the compact firmware
syms_default="$("${fw_prefix}nm" "$work/default.fw/firmware.elf")"
syms_compact="$("${fw_prefix}nm" "$work/compact.fw/firmware.elf")"
grep -q ' nml_fail$' <<<"$syms_default" || fail "nml_fail not in the default firmware (check the test)"
if grep -q ' nml_fail$' <<<"$syms_compact"; then fail "the compact firmware still links nml_fail"; fi
echo "person_detect on RV32: golden outputs in both builds; .text $t_compact B compact vs $t_default B"
echo "PASS"
