#!/usr/bin/env bash
# The demo's step runner (sourced by scripts/demo.sh and tests/scripts/test_demo_runner.sh).
#
#   demo_step NAME "TITLE" FUNC [INPUT ...]
#
# runs FUNC with $out set to a fresh folder and moves that folder to $DEMO_WORK/NAME when FUNC
# succeeds. An INPUT is a file or folder (its bytes are hashed) or KEY=VALUE (a parameter). The
# step's stamp is the hash of its inputs, FUNC's own text (`declare -f`) and $DEMO_TOOL (the
# nanoml binary); a step whose stamp is unchanged is reused, not rerun. FUNC may write one line
# to $out/summary.txt (the key number of the summary table).
#
# Settings (set before the first demo_step): DEMO_WORK (default demo-out), DEMO_FORCE=1 (rerun
# every step), DEMO_ONLY=NAME (run that step only; the others are neither run nor checked),
# DEMO_LIST=1 (print the steps and exit), DEMO_TOOL (a file whose bytes are part of every stamp),
# DEMO_DIR_NAME (function NAME -> folder, to place a step's output elsewhere).
# A failing step stops the demo (exit 1) with the step's name, the failed command and its exit
# status; its partial output stays in NAME.partial, and earlier steps' folders are untouched.

DEMO_WORK="${DEMO_WORK:-demo-out}"
DEMO_FORCE="${DEMO_FORCE:-0}"
DEMO_ONLY="${DEMO_ONLY:-}"
DEMO_LIST="${DEMO_LIST:-0}"
DEMO_TOOL="${DEMO_TOOL:-}"
demo_rows=()
demo_started=$(date +%s)

demo_dir() { # NAME -> the step's final folder
  if declare -F DEMO_DIR_NAME >/dev/null; then DEMO_DIR_NAME "$1"; else echo "$DEMO_WORK/$1"; fi
}

demo_hash_input() { # INPUT -> lines for the stamp
  local x="$1"
  if [ -f "$x" ]; then
    printf 'file %s %s\n' "$x" "$(sha256sum <"$x" | cut -d' ' -f1)"
  elif [ -d "$x" ]; then
    printf 'dir %s %s\n' "$x" "$(cd "$x" && find . -type f ! -name '.stamp' -print0 | LC_ALL=C sort -z |
      xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1)"
  elif [[ "$x" == *=* ]]; then
    printf 'param %s\n' "$x"
  else
    echo "demo: input '$x' is neither a file, a folder nor KEY=VALUE" >&2
    return 1
  fi
}

demo_stamp() { # NAME FUNC INPUT... -> the stamp text's hash
  local name="$1" func="$2"
  shift 2
  {
    echo "step $name"
    declare -f "$func"
    [ -n "$DEMO_TOOL" ] && demo_hash_input "$DEMO_TOOL"
    local x
    for x in "$@"; do demo_hash_input "$x" || return 1; done
  } | sha256sum | cut -d' ' -f1
}

demo_fmt_time() { # SECONDS -> "1 min 05 s" / "12 s"
  local s="$1"
  if [ "$s" -ge 60 ]; then printf '%d min %02d s' $((s / 60)) $((s % 60)); else printf '%d s' "$s"; fi
}

demo_step() {
  local name="$1" title="$2" func="$3"
  shift 3
  if [ "$DEMO_LIST" = 1 ]; then printf '  %-12s %s\n' "$name" "$title"; return 0; fi
  if [ -n "$DEMO_ONLY" ] && [ "$DEMO_ONLY" != "$name" ]; then return 0; fi
  demo_only_seen=1
  local dir stamp
  dir="$(demo_dir "$name")"
  stamp="$(demo_stamp "$name" "$func" "$@")" || { echo "demo: step '$name': bad inputs" >&2; exit 1; }
  if [ "$DEMO_FORCE" != 1 ] && [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    local t
    t="$(cat "$dir/.time" 2>/dev/null || echo 0)"
    printf '\n== %s: %s — reused (inputs unchanged; ran in %s)\n' "$name" "$title" "$(demo_fmt_time "$t")"
    demo_rows+=("$name|reused|$(demo_fmt_time "$t")|$(head -n1 "$dir/summary.txt" 2>/dev/null)")
    return 0
  fi
  printf '\n== %s: %s\n' "$name" "$title"
  local part="$dir.partial" t0 status=0
  rm -rf "$part"
  mkdir -p "$part"
  t0=$(date +%s)
  # a subshell, so the step's `set -e` failure and its variables stay inside; not under `||`,
  # which would switch `set -e` off inside it
  local had_e=0
  [[ $- == *e* ]] && had_e=1
  set +e
  (
    set -eEuo pipefail
    out="$part"
    trap '[ -f "$out/.failed" ] || printf "%s\n%s\n" "$?" "$BASH_COMMAND" >"$out/.failed"' ERR
    "$func"
  )
  status=$?
  [ "$had_e" = 1 ] && set -e
  local dt=$(($(date +%s) - t0))
  if [ "$status" -ne 0 ]; then
    local cmd="" code="$status"
    if [ -f "$part/.failed" ]; then code="$(sed -n 1p "$part/.failed")"; cmd="$(sed -n 2p "$part/.failed")"; fi
    local what="\`$cmd\` exited with status $code"
    # a step's own check ends in `return 1` after printing why
    [[ -z "$cmd" || "$cmd" == return* ]] && what="status $code (its message is above)"
    printf '\ndemo: step %s (%s) FAILED after %s: %s.\n' \
      "'$name'" "$title" "$(demo_fmt_time "$dt")" "$what" >&2
    printf 'demo: its partial output is in %s; earlier steps are kept (rerun to resume).\n' "$part" >&2
    exit 1
  fi
  echo "$stamp" >"$part/.stamp"
  echo "$dt" >"$part/.time"
  rm -rf "$dir"
  mv "$part" "$dir"
  printf -- '-- %s: done in %s\n' "$name" "$(demo_fmt_time "$dt")"
  demo_rows+=("$name|ran|$(demo_fmt_time "$dt")|$(head -n1 "$dir/summary.txt" 2>/dev/null)")
}

demo_summary() { # prints the table of the steps run or reused
  [ "$DEMO_LIST" = 1 ] && return 0
  if [ -n "$DEMO_ONLY" ] && [ -z "${demo_only_seen:-}" ]; then
    echo "demo: there is no step '$DEMO_ONLY' (--list shows the steps)" >&2
    exit 2
  fi
  local total=$(($(date +%s) - demo_started)) r name how t key
  printf '\n== summary (%s in all)\n' "$(demo_fmt_time "$total")"
  printf '%-12s %-7s %-12s %s\n' step status time "key result"
  for r in "${demo_rows[@]}"; do
    IFS='|' read -r name how t key <<<"$r"
    printf '%-12s %-7s %-12s %s\n' "$name" "$how" "$t" "$key"
  done
}
