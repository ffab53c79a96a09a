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
# Configured on every run (quick with a cache): a build folder configured by an older
# checkout must pick up the options and targets of this one.
mkdir -p "$build"
if ! cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DNML_FUZZ=ON -DNML_BUILD_TESTS=OFF \
    -DNML_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNML_SHARED_DIR="$shared" \
    >"$build/fuzz-configure.log" 2>&1; then
  cat "$build/fuzz-configure.log"
  echo "fuzz: configure failed" >&2
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
for t in "${targets[@]}"; do
  [ -f "$here/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (fuzz/fuzz_$t.c)" >&2; exit 2; }
done

# only what fuzzing needs (the library, the targets, the seed writer): not the CLI or benches
if ! cmake --build "$build" -j2 --target make_seeds "${targets[@]/#/fuzz_}" \
    >"$build/fuzz-build.log" 2>&1; then
  tail -40 "$build/fuzz-build.log"
  echo "fuzz: build failed (log: $build/fuzz-build.log)" >&2
  exit 1
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
    onnx) # FastestDet plus small models of every operator family (make_seeds)
      cp "$shared/models/fastestdet/FastestDet.onnx" "$dir"/
      "$build/fuzz/make_seeds" onnx "$dir" ;;
    image) # the shared photos (those under the size cap), a few COCO images, tiny PNG/BMP/JPEG
      local f
      for f in "$shared"/images/*.jpg $(ls -S "$shared"/datasets/coco128-val/images/*.jpg | tail -4); do
        if [ "$(stat -c %s "$f")" -le $((256 << 10)) ]; then cp "$f" "$dir"/; fi
      done
      "$build/fuzz/make_seeds" image "$dir" ;;
    idx) # headers of the Fashion-MNIST files with a few records, gzip-compressed and plain
      local fm="${NML_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}" split
      for split in t10k train; do
        { printf '\x00\x00\x08\x03\x00\x00\x00\x03'
          zcat "$fm/$split-images-idx3-ubyte.gz" | tail -c +9 | head -c $((8 + 3 * 784)); } \
          > "$dir/$split-images-3.idx" || true
        { printf '\x00\x00\x08\x01\x00\x00\x00\x0a'
          zcat "$fm/$split-labels-idx1-ubyte.gz" | tail -c +9 | head -c 10; } \
          > "$dir/$split-labels-10.idx" || true
        gzip -9nc "$dir/$split-images-3.idx" > "$dir/$split-images-3.idx.gz"
        gzip -1nc "$dir/$split-labels-10.idx" > "$dir/$split-labels-10.idx.gz"
      done
      printf '\x00\x00\x08\x04\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x02\x01\x02\x03\x04' > "$dir/rank4.idx"
      cat "$dir/t10k-labels-10.idx.gz" "$dir/t10k-labels-10.idx.gz" > "$dir/two-members.gz" ;;
    yolo_labels) # first byte: class count (0 mod 4: any); then label text
      local f i=0
      for f in $(ls "$shared"/datasets/coco128-val/labels/*.txt | head -6); do
        { printf '\x51'; cat "$f"; } > "$dir/coco$((i++))"
      done
      printf '\x00 0 0.5 0.5 1 1\n\n\t3\t0.25 0.75 0.1 0.2\r\n' > "$dir/any-classes"
      printf '\x02 1 0 1e-1 0.50 1.0' > "$dir/two-classes" ;;
    cli) # first byte: the option (cli_numbers.c table order); then the value
      local i=0 s
      for s in '\x0010' '\x01256' '\x02100000' '\x0342' '\x042' '\x051e-3' '\x060.9' \
               '\x070.5' '\x080.1' '\x09500' '\x0a64M' '\x0b100' '\x0c1024' '\x0d99.99' \
               '\x0e256K' '\x0f2' '\x10120' '\x111x3x86x128' '\x120.65' '\x130.45' '\x14100' \
               '\x15640x640' '\x160.001' '\x170.7' '\x18300' '\x190' '\x1a4' '\x1b128X86' \
               '\x1c2' '\x1d64' '\x1e352x352' '\x1f1000' '\x2064M' '\x21256'; do
        printf "$s" > "$dir/seed$((i++))"
      done ;;
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
