#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/ (fuzz_<name>.c -> target <name>).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 tflite
#
# SECONDS per target (default $NML_FUZZ_SECONDS, else 60; 0 only replays the regression
# corpus); TARGETs default to every target.
# For each target: build (clang, ASan + UBSan + libFuzzer) into $NML_FUZZ_BUILD (default
# build-fuzz/), replay the committed regression corpus fuzz/regressions/<name>/ (every input
# that once crashed), then fuzz from seeds made from ../shared and small generated inputs.
# Exit status 1 when any input crashes, hangs (> $NML_FUZZ_TIMEOUT s, default 10), leaks or
# breaks an invariant; the input is saved under the work folder and its path printed: add it
# to fuzz/regressions/<name>/ once the bug is fixed.
#
# Environment: NML_FUZZ_BUILD, NML_SHARED_DIR (default ../shared), NML_FUZZ_WORK (work folder
# with the grown corpora, kept when given; default a temporary folder, removed), NML_FUZZ_JOBS
# (parallel fuzzing jobs per target, default 1: the machine is shared).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-${NML_FUZZ_SECONDS:-60}}"
shift || true
build="${NML_FUZZ_BUILD:-$here/build-fuzz}"
shared="${NML_SHARED_DIR:-$here/../shared}"
timeout_s="${NML_FUZZ_TIMEOUT:-10}"
jobs="${NML_FUZZ_JOBS:-1}"

if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
command -v clang >/dev/null || { echo "fuzz: clang is missing (run scripts/setup.sh)" >&2; exit 1; }

# ---- build ----
if [ ! -f "$build/CMakeCache.txt" ]; then
  mkdir -p "$build"
  if ! cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DNML_FUZZ=ON -DNML_BUILD_TESTS=OFF \
      -DNML_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNML_SHARED_DIR="$shared" \
      >"$build/fuzz-configure.log" 2>&1; then
    cat "$build/fuzz-configure.log"
    echo "fuzz: configure failed" >&2
    exit 1
  fi
fi
if ! cmake --build "$build" -j2 >"$build/fuzz-build.log" 2>&1; then
  tail -40 "$build/fuzz-build.log"
  echo "fuzz: build failed (log: $build/fuzz-build.log)" >&2
  exit 1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$here"/fuzz/fuzz_*.c; do
    name="$(basename "$src" .c)"
    [ "$name" = fuzz_support ] && continue
    targets+=("${name#fuzz_}")
  done
fi

if [ -n "${NML_FUZZ_WORK:-}" ]; then
  work="$NML_FUZZ_WORK"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

# ---- seeds: shared files plus small generated inputs ----
npy_seed() { # FILE DESCR SHAPE DATA_HEX: a format 1.0 .npy file
  local file="$1" header="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local len=$(( ${#header} + 1 )) pad
  pad=$(( (64 - (10 + len) % 64) % 64 ))
  header="$header$(printf '%*s' "$pad" '')"
  len=$(( len + pad ))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%s\n' "$header"; printf "$4"; } > "$file"
}

make_seeds() { # TARGET DIR
  local dir="$2"
  mkdir -p "$dir"
  case "$1" in
    tflite)
      cp "$shared"/models/tflm/*.tflite "$dir"/ ;;
    tflite_fields) # mutation programs: model byte, then 6-byte (field, value) records
      local i k hex
      RANDOM=1 # deterministic seeds (computed here, not in a subshell, which reseeds)
      for i in $(seq 0 39); do
        printf -v hex '\\x%02x' $((i % 5))
        for k in $(seq 1 $(( (1 + i % 3) * 6 ))); do printf -v hex '%s\\x%02x' "$hex" $((RANDOM % 256)); done
        printf "$hex" > "$dir/seed$i"
      done ;;
    npy)
      npy_seed "$dir/f4.npy" '<f4' '(1, 2)' '\x00\x00\x80\x3f\x00\x00\x00\xc0'
      npy_seed "$dir/i1.npy" '|i1' '(2, 3)' '\x01\x02\x03\xff\xfe\x80'
      npy_seed "$dir/u1.npy" '|u1' '()' '\x07'
      npy_seed "$dir/b1.npy" '|b1' '(3,)' '\x01\x00\x01'
      npy_seed "$dir/i8.npy" '<i8' '(1,)' '\x01\x00\x00\x00\x00\x00\x00\x80'
      npy_seed "$dir/f2.npy" '<f2' '(2, 1, 1)' '\x00\x3c\x00\xc0'
      npy_seed "$dir/f8.npy" '<f8' '(0, 4)' ''
      npy_seed "$dir/i4.npy" '<i4' '(1, 1, 1, 1, 1, 1)' '\x2a\x00\x00\x00' ;;
    parse)
      local i=0 s
      for s in '\x00-12' '\x08255' '\x10-9223372036854775808' '\x01.5e-3' '\x09-0.25' \
               '\x111e300' '\x02256K' '\x0a1MiB' '\x024096' '\x031x3x86x128' '\x031,96,96,1' \
               '\x04128x86' '\x04640X480'; do
        printf "$s" > "$dir/seed$((i++))"
      done ;;
  esac
}

# ---- run ----
status=0
summary=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target '$t' ($bin)" >&2; exit 2; }
  regress="$here/fuzz/regressions/$t"
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/crashes"
  make_seeds "$t" "$dir/seeds"

  mapfile -t saved < <(find "$regress" -type f ! -name '.*' 2>/dev/null | sort)
  if [ ${#saved[@]} -gt 0 ]; then
    echo "== $t: replaying ${#saved[@]} regression inputs"
    if ! "$bin" -timeout="$timeout_s" -rss_limit_mb=2048 "${saved[@]}" >"$dir/replay.log" 2>&1; then
      tail -30 "$dir/replay.log"
      echo "fuzz: $t: a regression input fails again (log: $dir/replay.log)" >&2
      status=1
      summary+=("$t: regression replay FAILED")
      continue
    fi
  fi

  if [ "$seconds" -eq 0 ]; then # replay only
    summary+=("$t: ${#saved[@]} regression inputs replayed")
    continue
  fi
  echo "== $t: fuzzing for ${seconds}s"
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
  dict=()
  [ -f "$here/fuzz/$t.dict" ] && dict=(-dict="$here/fuzz/$t.dict")
  # fuzz/<target>.options: extra libFuzzer flags, one per line (e.g. -max_len=49)
  [ -f "$here/fuzz/$t.options" ] && mapfile -t -O ${#dict[@]} dict < <(grep -v -e '^#' -e '^\s*$' "$here/fuzz/$t.options")
  set +e
  (cd "$dir" && "$bin" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 \
      "${parallel[@]}" -print_final_stats=1 -artifact_prefix="$dir/crashes/" \
      "${dict[@]}" "$dir/corpus" "$dir/seeds" ${saved:+"$regress"} >"$dir/fuzz.log" 2>&1)
  rc=$?
  set -e
  [ "$jobs" -gt 1 ] && cat "$dir"/fuzz-*.log >>"$dir/fuzz.log" 2>/dev/null
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/fuzz.log" |
           awk '{s += $2} END {print s + 0}')"
  corpus="$(find "$dir/corpus" -type f | wc -l)"
  mapfile -t found < <(find "$dir/crashes" -type f | sort)
  if [ $rc -ne 0 ] || [ ${#found[@]} -gt 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|invariant|internal error|without a matching' "$dir/fuzz.log" | head -5
    summary+=("$t: $execs executions, FAILED (exit $rc): ${found[*]:-see $dir/fuzz.log}")
    [ -n "${NML_FUZZ_WORK:-}" ] || trap - EXIT # keep the evidence
  else
    summary+=("$t: $execs executions in ${seconds}s, corpus $corpus new inputs, no crash")
  fi
done

echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
[ $status -eq 0 ] || echo "fuzz: failures found; work folder kept: $work" >&2
exit $status
