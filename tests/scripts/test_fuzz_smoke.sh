#!/usr/bin/env bash
# Fuzzing in CI: builds every libFuzzer target with clang (ASan + UBSan + libFuzzer) in its own
# build folder, replays the committed regression corpus fuzz/regressions/<target>/ (every input
# that once crashed), then fuzzes each target for $NML_FUZZ_SMOKE_SECONDS (default 8) seconds
# from seeds made from ../shared. Fails on any crash, hang, leak or broken invariant. Nine
# targets: about 75 s of fuzzing plus the clang build, 2.5 to 3 minutes on 2 shared cores.
# Runs in the plain build only (skipped, 77, in the sanitizer build: the fuzzers carry their
# own sanitizers, and once per CI run is enough).
set -uo pipefail
src="${NML_SOURCE_DIR:?}"
bin="${NML_BINARY_DIR:?}"
if [ "${NML_SANITIZE:-OFF}" = ON ]; then
  echo "skip: runs in the plain build"
  exit 77
fi
command -v clang >/dev/null || { echo "FAIL: clang is missing (scripts/setup.sh)"; exit 1; }
export NML_FUZZ_BUILD="$bin/fuzz-smoke"
export NML_SHARED_DIR="${NML_SHARED_DIR:?}"
exec bash "$src/scripts/fuzz.sh" "${NML_FUZZ_SMOKE_SECONDS:-8}"
