#!/usr/bin/env bash
# `nanoml export`: the xxd format equals `xxd -i -n NAME` byte for byte; the default format
# compiles, holds the model byte-identical and 16-byte aligned, its resolver links the real
# kernels, the arena constant is exact (init succeeds with it and fails with one byte less) and
# running the TFLM golden inputs through it on the host gives the golden outputs; models that
# cannot fit a target are refused with the numbers; bad input is an error, not a crash.
set -euo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
src="${NML_SOURCE_DIR:?}"
bin="${NML_BINARY_DIR:?}"
models="$shared/models/tflm"
golden="$shared/golden/tflm-reference"
[ -f "$models/hello_world_int8.tflite" ] || { echo "SKIP: shared models not found under $models"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

expect_status() { # STATUS CMD... : runs CMD, which must exit with STATUS
  local want="$1"; shift
  set +e; "$@" >"$work/out.log" 2>&1; local got=$?; set -e
  [ "$got" -eq "$want" ] || { echo "expected exit $want, got $got: $*"; cat "$work/out.log"; exit 1; }
}

# --- usage errors (exit 2) and bad files (exit 1, one line naming the problem)
expect_status 2 "$cli" export
expect_status 2 "$cli" export "$models/hello_world_int8.tflite" --name 9lives
expect_status 2 "$cli" export "$models/hello_world_int8.tflite" --format hex
expect_status 0 "$cli" export --help
expect_status 1 "$cli" export "$work/missing.tflite"
grep -q "nanoml export: .*missing.tflite" "$work/out.log"
head -c 3000 /dev/urandom >"$work/garbage.tflite"
expect_status 1 "$cli" export "$work/garbage.tflite" --out "$work/g"
[ ! -e "$work/g/garbage_model.c" ]

# --- xxd format: identical to xxd -i -n NAME
if command -v xxd >/dev/null; then
  for m in hello_world_int8 person_detect; do
    "$cli" export "$models/$m.tflite" --format xxd --name "m_$m" --out "$work/xxd" >/dev/null
    xxd -i -n "m_$m" "$models/$m.tflite" | cmp - "$work/xxd/m_${m}_model.c"
    grep -q "#define M_${m^^}_MODEL_BYTES $(stat -c %s "$models/$m.tflite")u" "$work/xxd/m_${m}_model.h"
  done
  echo "ok: --format xxd equals xxd -i"
else
  echo "note: xxd not installed, xxd comparison skipped (scripts/setup.sh installs it)"
fi

# --- the default format needs the runtime to plan the model
if ! "$cli" export "$models/hello_world_int8.tflite" --name hw --out "$work/c" >"$work/export.log" 2>&1; then
  echo "SKIP: the runtime cannot analyze hello_world_int8 yet: $(tail -1 "$work/export.log")"
  exit 77
fi
cat "$work/export.log"
h="$work/c/hw_model.h"
grep -q '^#define HW_MODEL_BYTES 2704u$' "$h"                  # the file's size
grep -q '^#define HW_OPS "FULLY_CONNECTED"$' "$h"                # three dense layers
grep -q '^#define HW_NODE_COUNT 3u' "$h"
grep -q '^#define HW_INPUT0_BYTES 1u$' "$h"                      # golden in_000.bin is 1 byte
grep -q '^#define HW_OUTPUT0_BYTES 1u$' "$h"
grep -q '^#define HW_INPUT0_TYPE NML_INT8$' "$h"
if grep -q '^#define HW_HAS_MACS 1$' "$h"; then
  grep -q '^#define HW_TOTAL_MACS 288ull$' "$h"                  # 1x16 + 16x16 + 16x1
fi

cat >"$work/check.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_model.h"
#include "kernel.h"

#ifdef HW_PLAN_ACTIVATION_BYTES /* exported with --plan-at-export: init with its arena plan */
#define INIT(arena, bytes) \
    nml_interpreter_init_planned(&it, &m, &hw_op_resolver, &hw_arena_plan, arena, bytes, &err)
#else
#define INIT(arena, bytes) nml_interpreter_init(&it, &m, &hw_op_resolver, arena, bytes, &err)
#endif

/* argv: out.bin, golden inputs file, golden outputs file */
int main(int argc, char **argv) {
    if (argc != 4) return 2;
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(hw_model, 1, hw_model_len, f) != hw_model_len) return 3;
    fclose(f);
    if ((uintptr_t)hw_model % 16 != 0) { puts("model array not 16-byte aligned"); return 1; }
    if (hw_op_resolver.count != 1 || hw_op_resolver.kernels[0]->builtin != 9) {
        puts("resolver is not exactly FULLY_CONNECTED (builtin 9)"); return 1;
    }
    nml_model m;
    nml_error err;
    if (nml_model_load(&m, hw_model, hw_model_len, &err) != NML_OK) { puts(err.msg); return 1; }
    static _Alignas(16) uint8_t arena[HW_ARENA_BYTES];
    nml_interpreter it;
    memset(&it, 0, sizeof it);
    if (INIT(arena, HW_ARENA_BYTES - 1) != NML_E_ARENA) {
        puts("the arena constant is not tight: init succeeded with one byte less"); return 1;
    }
    memset(&it, 0, sizeof it);
    if (INIT(arena, HW_ARENA_BYTES) != NML_OK) {
        printf("init with HW_ARENA_BYTES failed: %s\n", err.msg); return 1;
    }
    FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "rb");
    if (!in || !out) return 3;
    int n = 0, c, bad = 0;
    while ((c = fgetc(in)) != EOF) {
        int8_t *x = (int8_t *)nml_input(&it, 0)->data;
        x[0] = (int8_t)c;
        if (nml_invoke(&it, &err) != NML_OK) { puts(err.msg); return 1; }
        int want = fgetc(out);
        if ((uint8_t)((int8_t *)nml_output(&it, 0)->data)[0] != want) bad++;
        n++;
    }
    printf("%d inputs, %d mismatches\n", n, bad);
    return bad || n == 0;
}
C
cat "$golden"/hello_world_int8/in_[0-9]*.bin >"$work/in.bin"
cat "$golden"/hello_world_int8/out_[0-9]*.bin >"$work/out.bin"
san=()  # a sanitizer build's runtime library needs the same flags at link time
if [ "$(nm -u "$bin/libnanoml_runtime.a" 2>/dev/null | grep -c __asan_init)" -gt 0 ]; then
  san=(-fsanitize=address,undefined -fno-sanitize-recover=all)
fi
${CC:-cc} -std=c11 -Wall -Wextra -Werror "${san[@]}" -I"$work/c" -I"$src/include" -I"$src/src/runtime" \
  "$work/check.c" "$work/c/hw_model.c" "$bin/libnanoml_runtime.a" -lm -o "$work/check"
"$work/check" "$work/roundtrip.bin" "$work/in.bin" "$work/out.bin"
cmp "$work/roundtrip.bin" "$models/hello_world_int8.tflite"
# the same with the arena plan written at export: same exact arena, same golden outputs
"$cli" export "$models/hello_world_int8.tflite" --name hw --out "$work/cp" --plan-at-export >/dev/null
grep -q '^#define HW_PLAN_ACTIVATION_BYTES [0-9]*u$' "$work/cp/hw_model.h"
${CC:-cc} -std=c11 -Wall -Wextra -Werror "${san[@]}" -I"$work/cp" -I"$src/include" -I"$src/src/runtime" \
  "$work/check.c" "$work/cp/hw_model.c" "$bin/libnanoml_runtime.a" -lm -o "$work/check_plan"
"$work/check_plan" "$work/roundtrip.bin" "$work/in.bin" "$work/out.bin"
expect_status 1 "$cli" export "$models/hello_world_int8.tflite" --format xxd --plan-at-export \
  --out "$work/xp"
grep -q 'the xxd format has no arena plan' "$work/out.log"
echo "ok: the exported array is the file, aligned; resolver, exact arena and golden outputs check"

# --- targets: refused with the numbers, accepted when it fits
expect_status 1 "$cli" export "$models/person_detect.tflite" --target xheep-64k --out "$work/pd"
grep -q 'does not fit xheep-64k (LINKER=on_chip): needs [0-9]* bytes of RAM' "$work/out.log"
grep -q 'model 300568 + arena [0-9]* bytes' "$work/out.log"
[ ! -e "$work/pd/person_detect_model.c" ]
expect_status 0 "$cli" export "$models/person_detect.tflite" --target xheep-512k --out "$work/pd"
grep -q '^fits xheep-512k (LINKER=on_chip)' "$work/out.log"
expect_status 0 "$cli" export "$models/person_detect.tflite" --target xheep-128k \
  --linker flash_exec --out "$work/pd"
expect_status 2 "$cli" export "$models/person_detect.tflite" --target xheep-100k --out "$work/pd"
echo "ok: export"
