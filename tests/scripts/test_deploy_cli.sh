#!/usr/bin/env bash
# `nanoml deploy` command line: usage errors exit 2, a missing cross compiler or QEMU is a
# one-line error saying what to install, bad inputs are errors naming the numbers.
set -euo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
model="$shared/models/tflm/hello_world_int8.tflite"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

expect_status() { # STATUS CMD...
  local want="$1"; shift
  set +e; "$@" >"$work/out.log" 2>&1; local got=$?; set -e
  [ "$got" -eq "$want" ] || { echo "expected exit $want, got $got: $*"; cat "$work/out.log"; exit 1; }
}

expect_status 0 "$cli" deploy --help
grep -q 'usage: nanoml deploy MODEL.tflite --target rv32-qemu' "$work/out.log"
expect_status 2 "$cli" deploy
expect_status 2 "$cli" deploy "$model"
grep -q 'no --target given' "$work/out.log"
expect_status 2 "$cli" deploy "$model" --target arm-m4
grep -q "unknown target 'arm-m4'" "$work/out.log"
expect_status 2 "$cli" deploy "$model" --target rv32-qemu --jobs 0
expect_status 2 "$cli" deploy "$model" --target rv32-qemu --timeout x
expect_status 2 "$cli" deploy "$model" --target xheep --linker rom
expect_status 2 "$cli" deploy "$model" --target rv32-qemu --name 'a b'
expect_status 2 "$cli" deploy "$model" --target rv32-qemu --bogus

# missing tools: one line that says what to install
NANOML_RISCV_PREFIX=/nonexistent/riscv- expect_status 1 "$cli" deploy "$model" --target rv32-qemu
grep -q '^nanoml deploy: /nonexistent/riscv-gcc not found: install gcc-riscv64-unknown-elf' "$work/out.log"
[ "$(wc -l <"$work/out.log")" -eq 1 ]
if command -v riscv64-unknown-elf-gcc >/dev/null; then
  NANOML_QEMU=/nonexistent/qemu expect_status 1 "$cli" deploy "$model" --target rv32-qemu
  grep -q 'qemu not found: install qemu-system-misc' "$work/out.log"
fi
NANOML_SOURCE_DIR=/nonexistent expect_status 1 "$cli" deploy "$model" --target rv32-qemu
grep -q "nanoml sources not found at '/nonexistent'" "$work/out.log"

# inputs that do not match the model (needs the runtime to know the model's input size)
if "$cli" export "$model" --out "$work/probe" >/dev/null 2>&1 && command -v riscv64-unknown-elf-gcc >/dev/null; then
  : >"$work/empty.bin"
  expect_status 1 "$cli" deploy "$model" --target rv32-qemu --input "$work/empty.bin"
  grep -q 'empty.bin is empty' "$work/out.log"
  printf 'ab' >"$work/two.bin"
  printf 'abc' >"$work/three.bin"
  expect_status 1 "$cli" deploy "$model" --target rv32-qemu --input "$work/two.bin" \
    --expect "$work/three.bin"
  grep -q '3 expected output sets for 2 input sets' "$work/out.log"
fi
echo "ok: deploy command line"
