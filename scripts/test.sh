#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds once normally and once with
# AddressSanitizer + UndefinedBehaviorSanitizer (warnings are errors in both), runs every test
# under both builds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
jobs="$(nproc)"
status=0
for variant in plain asan; do
  dir="$here/build-test-$variant"
  args=()
  [ "$variant" = asan ] && args=(-DNML_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  echo "== build ($variant)"
  "$here/scripts/build.sh" "$dir" "${args[@]}"
  echo "== test ($variant)"
  export NML_REQUIRE_ORACLES=1
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --test-dir "$dir" -j"$jobs" --output-on-failure --timeout 1200 || status=1
done
exit $status
