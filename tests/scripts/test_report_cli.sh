#!/usr/bin/env bash
# nanoml report and nanoml plot bars on a small fixture shaped like the demo's report (tables,
# a bar chart PNG drawn by nanoml, a JPEG photo and a second PNG in a subfolder, links
# to generated files): the HTML page is checked by tests/oracles/check_report.mjs, which decodes
# every inline picture completely (PNG: CRCs and inflated rows; JPEG: segments and frame) and
# resolves every link, without using nanoml's code. The checker must also reject broken pages.
# The page is also opened in headless Chromium (every picture loaded, no console errors).
# Then the commands' errors: missing picture, remote picture, bad data, usage.
set -uo pipefail
cli="${NML_CLI:?}"
src="${NML_SOURCE_DIR:?}"
shared="${NML_SHARED_DIR:?}"
check="$src/tests/oracles/check_report.mjs"
command -v node >/dev/null || { echo "SKIP: node not installed (scripts/setup.sh)"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # expect NAME STATUS PATTERN -- command...
  local name="$1" want="$2" pattern="$3" out status
  shift 4
  out="$("$@" 2>&1)"
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$name: status $status (want $want), output: $out"
  fi
}

# ---- the fixture ----
r="$work/report"
mkdir -p "$r/pics" "$work/out/c" "$work/out/fw"
echo "const unsigned char m[] = {0};" >"$work/out/c/model.c"
printf '\177ELF' >"$work/out/fw/firmware.elf"
printf '1460 0 FULLY_CONNECTED\n# a comment\n\n2387 1 FULLY_CONNECTED\n406 2 FULLY_CONNECTED\n' \
  >"$work/bars.txt"
expect plot-bars 0 "wrote .*bars.png \(3 bars, 900x" -- \
  "$cli" plot bars "$work/bars.txt" --out "$r/bars.png" --title "instructions per layer" --x-label instructions
expect plot-stdin 0 "2 bars" -- sh -c "printf '5 a\n7 b\n' | '$cli' plot bars - --out '$r/pics/small.png' --width 300"
cp "$shared/images/3.jpg" "$r/pics/photo.jpg"
cat >"$r/index.md" <<'EOF'
# Fixture report

Generated for the test. **Bold**, `code`, a [C file](../out/c/model.c) and the
[firmware](../out/fw/firmware.elf); the [folder](../out/).

| step | time | result |
| --- | ---: | --- |
| train | 12 s | accuracy 88.1% |
| chart | 1 s | ![bars](bars.png) |

| photo | small |
| --- | --- |
| ![photo](pics/photo.jpg) | ![small](pics/small.png) |
| person 0.90<br>person 0.89 | |

<!-- a comment the page drops -->
- one
- two
EOF
expect report 0 "wrote .*index.html" -- "$cli" report "$r"
html="$r/index.html"
[ -s "$html" ] || fail "no index.html"
expect checker-accepts 0 "3 images, 3 links, 0 problems" -- node "$check" "$html" --min-images 3
[ "$(grep -c '<table>' "$html")" -eq 2 ] || fail "2 tables expected"
grep -q "<td>person 0.90<br>person 0.89</td>" "$html" || fail "table cell with <br>"
grep -q "a comment the page drops" "$html" && fail "the comment reached the page"
grep -q "<title>nanoml fixture</title>" <("$cli" report "$r" --out "$work/t.html" --title "nanoml fixture" >/dev/null && cat "$work/t.html") ||
  fail "--title"

# ---- the checker rejects broken pages (so its acceptance above means something) ----
sed 's|href="../out/c/model.c"|href="../out/c/missing.c"|' "$html" >"$r/broken_link.html"
expect checker-link 1 "link ../out/c/missing.c: .* does not exist" -- node "$check" "$r/broken_link.html"
# a PNG whose base64 loses its last 8 characters (IEND chunk damaged)
awk '{ if (!done && sub(/"data:image\/png;base64,/, "&")) {
         i = index($0, "data:image/png;base64,"); rest = substr($0, i + 22); j = index(rest, "\"")
         $0 = substr($0, 1, i + 21) substr(rest, 1, j - 9) substr(rest, j); done = 1 } print }' \
  "$html" >"$r/broken_png.html"
expect checker-png 1 "image 1 \(image/png" -- node "$check" "$r/broken_png.html"
sed 's|src="data:image/jpeg;base64,/9j/|src="data:image/jpeg;base64,AAAA|' "$html" >"$r/broken_jpg.html"
expect checker-jpeg 1 "no JPEG SOI marker" -- node "$check" "$r/broken_jpg.html"
sed 's|<img src="data:image/png;base64,[^"]*"|<img src="bars.png"|' "$html" >"$r/file_img.html"
expect checker-file-image 1 "not an inline PNG/JPEG data URI" -- node "$check" "$r/file_img.html"
sed 's|</head>|<script src="https://cdn.example/x.js"></script></head>|' "$html" >"$r/remote.html"
expect checker-remote 1 "external resource" -- node "$check" "$r/remote.html"

# ---- the same page in a real browser: headless Chromium (Debian's chromium, npm playwright-core)
browser="not run"
if [ -x /usr/bin/chromium ] && [ -d "$src/tests/oracles/node_modules/playwright-core" ]; then
  expect chromium-accepts 0 "3 images loaded in Chromium .* 0 problems" -- \
    node "$src/tests/oracles/browser_check.mjs" "$html" --min-images 3
  sed 's|<img src="data:image/png;base64,[^"]*"|<img src="gone.png"|' "$html" >"$r/gone_img.html"
  expect chromium-rejects 1 "image 1 \(bars\): not loaded" -- \
    node "$src/tests/oracles/browser_check.mjs" "$r/gone_img.html" --min-images 3
  rm -f "$r/bars.png" # the data URI must not need the file
  expect chromium-self-contained 0 "0 problems" -- node "$src/tests/oracles/browser_check.mjs" "$html"
  browser="Chromium"
elif [ "${NML_REQUIRE_ORACLES:-0}" = 1 ]; then
  fail "chromium or npm playwright-core missing (scripts/setup.sh installs both)"
else
  echo "note: Chromium check skipped (chromium or npm playwright-core missing; scripts/setup.sh)"
fi

# ---- errors ----
mkdir -p "$work/e"
printf '# x\n\n![gone](gone.png)\n' >"$work/e/index.md"
expect missing-picture 1 "^nanoml report: .*index.md:3: picture: .*gone.png" -- "$cli" report "$work/e"
[ -e "$work/e/index.html" ] && fail "a page was written despite the error"
printf '![web](https://example.com/a.png)\n' >"$work/e/index.md"
expect remote-picture 1 "index.md:1: picture 'https://example.com/a.png' is not a local file" -- \
  "$cli" report "$work/e"
cp "$work/bars.txt" "$work/e/not_a_picture.png"
printf '![bad](not_a_picture.png)\n' >"$work/e/index.md"
expect not-a-picture 1 "neither PNG nor JPEG" -- "$cli" report "$work/e"
expect no-md 1 "^nanoml report: .*nothing/index.md" -- "$cli" report "$work/nothing"
expect report-usage 2 "no report folder given" -- "$cli" report
expect report-option 2 "unknown option '--frob'" -- "$cli" report "$r" --frob
expect report-help 0 "self-contained" -- "$cli" report --help
expect listed 0 "report .*plot" -- sh -c "'$cli' --help | tr '\n' ' '"
printf '12 ok\nminus -3 label\n' >"$work/bad_bars.txt"
expect bars-bad-line 1 "bad_bars.txt:2: 'minus -3 label' does not start with a number >= 0" -- \
  "$cli" plot bars "$work/bad_bars.txt" --out "$work/x.png"
printf -- '-3 negative\n' >"$work/neg.txt"
expect bars-negative 1 "neg.txt:1: .* does not start with a number >= 0" -- \
  "$cli" plot bars "$work/neg.txt" --out "$work/x.png"
printf '# only a comment\n' >"$work/empty.txt"
expect bars-empty 1 "no bars" -- "$cli" plot bars "$work/empty.txt" --out "$work/x.png"
expect bars-no-out 2 "--out CHART.png is required" -- "$cli" plot bars "$work/bars.txt"
expect bars-kind 2 "unknown chart 'pie'" -- "$cli" plot pie "$work/bars.txt"
expect bars-width 2 "--width: 'x' is not an integer" -- "$cli" plot bars "$work/bars.txt" --out "$work/x.png" --width x
expect bars-narrow 1 "width 250 pixels leaves no room" -- \
  sh -c "printf '1 a-very-long-label-that-takes-space-here\n' | '$cli' plot bars - --out '$work/x.png' --width 250"
expect bars-help 0 "VALUE LABEL|value" -- "$cli" plot --help

[ "$fails" -eq 0 ] && echo "ok: nanoml report page checked (pictures decoded, links resolved; browser: $browser); errors"
exit $((fails > 0))
