#!/usr/bin/env bash
# The demo's step runner (scripts/demo_lib.sh) on synthetic steps: a second run reuses finished
# steps; a changed input file or parameter reruns that step only; DEMO_FORCE reruns everything;
# a failing step stops the demo naming the step and the failed command, keeps earlier steps'
# results and its own previous result; DEMO_ONLY and DEMO_LIST. Also scripts/demo.sh's own
# argument handling (--list, --help, an unknown argument).
set -uo pipefail
src="${NML_SOURCE_DIR:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The demo under test: two steps; step b reads step a's output and can be told to fail.
cat >"$work/demo.sh" <<'EOF'
set -euo pipefail
source "$SRC/scripts/demo_lib.sh"
step_a() {
  echo run >>"$COUNT/a"
  echo "alpha $PARAM" >"$out/a.txt"
  echo "a made alpha" >"$out/summary.txt"
}
step_b() {
  echo run >>"$COUNT/b"
  tr a-z A-Z <"$DEMO_WORK/a/a.txt" >"$out/b.txt"
  if [ -f "$COUNT/break" ]; then echo "half" >"$out/half.txt"; grep -q nothing "$out/b.txt"; fi
  echo "b made $(cat "$out/b.txt")" >"$out/summary.txt"
}
demo_step a "first step" step_a "$INPUT" "param=$PARAM"
demo_step b "second step" step_b "$DEMO_WORK/a/a.txt"
demo_summary
EOF
mkdir -p "$work/count"
echo one >"$work/input.txt"
run() { # run LOG [VAR=VALUE ...]: runs the synthetic demo, exit status in $status
  local log="$1"
  shift
  env SRC="$src" COUNT="$work/count" INPUT="$work/input.txt" PARAM=1 DEMO_WORK="$work/out" "$@" \
    bash "$work/demo.sh" >"$log" 2>&1
  status=$?
}
runs() { wc -l <"$work/count/$1" 2>/dev/null | tr -d ' ' || echo 0; }

run "$work/1.log"
[ "$status" -eq 0 ] || { cat "$work/1.log"; fail "first run: status $status"; }
[ "$(runs a)$(runs b)" = 11 ] || fail "first run: steps ran $(runs a), $(runs b) times"
[ "$(cat "$work/out/b/b.txt" 2>/dev/null)" = "ALPHA 1" ] || fail "first run: b.txt wrong"
grep -q "^-- a: done in [0-9]* s$" "$work/1.log" || fail "first run: no time for step a"
grep -qE "^b +ran +[0-9]+ s +b made ALPHA 1$" "$work/1.log" || { cat "$work/1.log"; fail "summary row of b"; }

run "$work/2.log"
[ "$(runs a)$(runs b)" = 11 ] || fail "second run reran a step ($(runs a), $(runs b))"
grep -q "^== a: first step — reused" "$work/2.log" || { cat "$work/2.log"; fail "second run: a not reused"; }
grep -qE "^a +reused +[0-9]+ s +a made alpha$" "$work/2.log" || fail "second run: summary row of a"

echo two >"$work/input.txt" # a's input file changed: a reruns; its output is the same, so b does not
run "$work/3.log"
[ "$(runs a)$(runs b)" = 21 ] || fail "changed input: ran $(runs a), $(runs b) (want a again, b reused)"

run "$work/4.log" PARAM=2 # a parameter changed: a reruns, and b (whose input file changed)
[ "$(runs a)$(runs b)" = 32 ] || fail "changed parameter: ran $(runs a), $(runs b)"
[ "$(cat "$work/out/b/b.txt")" = "ALPHA 2" ] || fail "changed parameter: b.txt not updated"

run "$work/5.log" PARAM=2 DEMO_FORCE=1
[ "$(runs a)$(runs b)" = 43 ] || fail "DEMO_FORCE: ran $(runs a), $(runs b)"

run "$work/6.log" PARAM=2 DEMO_ONLY=b DEMO_FORCE=1
[ "$(runs a)$(runs b)" = 44 ] || fail "DEMO_ONLY=b: ran $(runs a), $(runs b)"

# failure: b breaks after a change of a; a's new result stays, b's previous result stays, the
# message names the step and the command, the partial output is kept aside
touch "$work/count/break"
run "$work/7.log" PARAM=3
[ "$status" -eq 1 ] || fail "failing step: status $status (want 1)"
grep -q "demo: step 'b' (second step) FAILED after [0-9]* s: \`grep -q nothing .*b.txt.\` exited with status 1" \
  "$work/7.log" || { cat "$work/7.log"; fail "failing step: message"; }
grep -q "^== summary" "$work/7.log" && fail "failing step: the demo went on to the summary"
[ "$(cat "$work/out/a/a.txt")" = "alpha 3" ] || fail "failing step: a's new result lost"
[ -f "$work/out/a/.stamp" ] || fail "failing step: a's stamp lost"
[ "$(cat "$work/out/b/b.txt")" = "ALPHA 2" ] || fail "failing step: b's previous result lost"
[ -f "$work/out/b.partial/half.txt" ] || fail "failing step: partial output not kept"
rm "$work/count/break"
run "$work/8.log" PARAM=3 # resume: a reused, b reruns and replaces its partial folder
[ "$status" -eq 0 ] || { cat "$work/8.log"; fail "resume: status $status"; }
[ "$(runs a)" = 5 ] || fail "resume: a reran"
[ "$(cat "$work/out/b/b.txt")" = "ALPHA 3" ] || fail "resume: b not updated"
[ -e "$work/out/b.partial" ] && fail "resume: b.partial left behind"

run "$work/8b.log" DEMO_ONLY=c
[ "$status" -eq 2 ] && grep -q "there is no step 'c'" "$work/8b.log" || fail "DEMO_ONLY of an unknown step"

run "$work/9.log" DEMO_LIST=1
[ "$(cat "$work/9.log")" = "$(printf '  %-12s %s\n  %-12s %s' a "first step" b "second step")" ] ||
  { cat "$work/9.log"; fail "DEMO_LIST output"; }

# scripts/demo.sh itself: the step list, help, and an unknown argument (no setup, no build)
out="$(bash "$src/scripts/demo.sh" --list 2>&1)"
for s in train compress fastestdet deploy report; do
  grep -qE "^  $s " <<<"$out" || { echo "$out"; fail "demo.sh --list: no step $s"; }
done
bash "$src/scripts/demo.sh" --help | grep -q -- "--full" || fail "demo.sh --help"
bash "$src/scripts/demo.sh" --frobnicate >"$work/u.log" 2>&1
[ $? -eq 2 ] && grep -q "unknown argument '--frobnicate'" "$work/u.log" || fail "demo.sh: unknown argument"

[ "$fails" -eq 0 ] && echo "ok: demo step runner (reuse, reruns on changed inputs, force, only, failure)"
exit $((fails > 0))
