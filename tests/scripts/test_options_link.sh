#!/bin/bash
# In firmware (NML_OPTIONS_BY_KERNELS) the reader of list and type options
# (src/runtime/options_extra.c) is linked only through a strong reference (the kernels with
# such options, RESHAPE and SQUEEZE), so firmware without those kernels carries no code for
# them. The loader with the options decoder compiled so and linked with the runtime library
# alone (tests/tools/runtime_load.c built as runtime_load_lean) then refuses a model with
# RESHAPE as unsupported, naming the operator (the resolver could not run it either), and still
# loads models without such options; the host's loader (runtime_load) reads them all. So does the
# decoder compiled with NML_NO_OPTIONS_EXTRA (runtime_load_noextra: `nanoml deploy` for a model
# without such operators), which has no code for them at all.
set -euo pipefail
: "${NML_BINARY_DIR:?}"
: "${NML_SHARED_DIR:?}"
lean="$NML_BINARY_DIR/tests/runtime_load_lean"
full="$NML_BINARY_DIR/tests/runtime_load"
fail() { echo "FAIL: $*"; exit 1; }
speech="$NML_SHARED_DIR/models/tflm/micro_speech_quantized.tflite" # operator 0 is RESHAPE
hello="$NML_SHARED_DIR/models/tflm/hello_world_int8.tflite"        # FULLY_CONNECTED only
[ -f "$speech" ] && [ -f "$hello" ] || { echo "SKIP: shared models missing"; exit 77; }

"$full" "$speech" | grep -q "^loaded: " || fail "the full loader does not load micro_speech"
for l in "$lean" "${lean%_lean}_noextra"; do
  if out="$("$l" "$speech")"; then fail "$l loaded RESHAPE: $out"; fi
  [[ "$out" == "error: operator 0 (RESHAPE): not supported: "*" [unsupported]" ]] ||
    fail "unexpected refusal by $l: $out"
  "$l" "$hello" | grep -q "^loaded: " || fail "$l does not load hello_world"
done
echo "PASS: list options are read only where their reader is linked"
