# Helpers for the script tests that run models as RV32 firmware under QEMU (sourced, not a test:
# its name does not start with test_). They follow tests/scripts/test_firmware_qemu.sh: the
# firmware compares its outputs with --expect itself, and the saved outputs are compared again
# on the host with cmp.

fw_prefix="${NANOML_RISCV_PREFIX:-riscv64-unknown-elf-}"
fw_qemu="${NANOML_QEMU:-qemu-system-riscv32}"

# Exits with 77 (skip) when the cross compiler or QEMU is missing.
fw_require_tools() {
  local tool
  for tool in "${fw_prefix}gcc" "$fw_qemu"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/setup.sh)"; exit 77; }
  done
}

# The raw tensor bytes of a .npy file (format 1.0: 10-byte preamble, header length at byte 8).
fw_npy_payload() { # NPY OUT
  local hl
  hl="$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')"
  tail -c +$((10 + hl + 1)) "$1" >"$2"
}

# Builds and runs MODEL on RV32 with the input sets in INPUT; the firmware must report that
# every output equals EXPECTED, and the outputs it saved must be EXPECTED byte for byte.
# The report goes to LOG (printed on failure), the build stays in LOG.d.
fw_deploy_expect() { # CLI MODEL INPUT EXPECTED LOG
  local cli="$1" model="$2" input="$3" expected="$4" log="$5"
  if ! "$cli" deploy "$model" --target rv32-qemu --input "$input" --expect "$expected" \
       --save-outputs "$log.got" --out "$log.d" >"$log" 2>&1; then
    cat "$log"
    echo "FAIL: deploy of $model on rv32-qemu"
    return 1
  fi
  grep -q '^result: PASS (every output matches --expect)$' "$log" ||
    { cat "$log"; echo "FAIL: the firmware did not report a match"; return 1; }
  cmp "$log.got" "$expected" || { echo "FAIL: RV32 outputs differ from the host's"; return 1; }
}

# A number from a deploy report: instructions per inference, the RV32 arena.
fw_instructions() { sed -n 's/^instructions per inference: \([0-9]*\) .*/\1/p' "$1"; }
fw_arena() { sed -n 's/^  arena *\([0-9]*\) B  used on RV32.*/\1/p' "$1"; }
