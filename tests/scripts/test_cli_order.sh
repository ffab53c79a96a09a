#!/usr/bin/env bash
# The operator-order step of `nanoml export` / `nanoml inspect` on person_detect (a chain: its
# order is the only one, so nothing may change): the line export prints agrees with the arena
# `nanoml inspect` reports, --save-tflite writes the embedded bytes (here the file's own),
# --keep-order skips the step, and the xxd format never reorders.
set -euo pipefail
cli="${NML_CLI:?}"
shared="${NML_SHARED_DIR:?}"
model="$shared/models/tflm/person_detect.tflite"
[ -f "$model" ] || { echo "skipping: $model missing"; exit 0; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$cli" inspect "$model" >"$work/inspect.txt"
act="$(sed -n 's/^arena .*activations \([0-9]*\);.*/\1/p' "$work/inspect.txt")"
bound="$(sed -n 's/^arena .*activation lower bound \([0-9]*\)).*/\1/p' "$work/inspect.txt")"
[ -n "$act" ] && [ -n "$bound" ] || { echo "inspect gave no arena line"; cat "$work/inspect.txt"; exit 1; }
grep -q "^order       activation lower bound $bound B in the file's order, $bound B in the best order (exact search" \
  "$work/inspect.txt" || { echo "inspect: no order line with $bound"; cat "$work/inspect.txt"; exit 1; }
# (to files first: grep -q stops reading early, and pipefail would see the writer's SIGPIPE)
"$cli" inspect --json "$model" >"$work/inspect.json"
grep -q "\"best_order_min_bytes\": $bound," "$work/inspect.json"

"$cli" export "$model" --out "$work/a" --save-tflite "$work/a.tflite" >"$work/a.log"
grep -q "^activation peak: original order $act B kept (lower bound $bound B; no order plans fewer bytes; exact search" \
  "$work/a.log" || { echo "export: unexpected order line"; cat "$work/a.log"; exit 1; }
cmp "$model" "$work/a.tflite"

"$cli" export "$model" --out "$work/b" --keep-order >"$work/b.log"
if grep -q "activation peak" "$work/b.log"; then echo "--keep-order still searched"; exit 1; fi
cmp "$work/a/person_detect_model.c" "$work/b/person_detect_model.c"

"$cli" export "$model" --out "$work/c" --format xxd >"$work/c.log"
if grep -q "activation peak" "$work/c.log"; then echo "xxd format reordered"; exit 1; fi

"$cli" export --help >"$work/help1.txt"
"$cli" deploy --help >"$work/help2.txt"
grep -q -- "--keep-order" "$work/help1.txt"
grep -q -- "--keep-order" "$work/help2.txt"
echo "ok"
