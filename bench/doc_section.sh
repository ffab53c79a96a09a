# Sourced by the study scripts: replaces a generated section of a Markdown document.
# splice_doc_section DOC MARKER SECTION_FILE [TITLE]
#   SECTION_FILE starts with "<!-- MARKER:begin ... -->" and ends with "<!-- MARKER:end -->";
#   the lines of DOC from its begin marker to its end marker are replaced by SECTION_FILE.
#   When DOC has no such section, SECTION_FILE is appended (under "## TITLE" when given).
splice_doc_section() {
  local doc="$1" marker="$2" section="$3" title="${4:-}"
  if [ -f "$doc" ] && grep -q "<!-- $marker:begin" "$doc"; then
    awk -v sec="$section" -v begin="<!-- $marker:begin" -v end="<!-- $marker:end -->" '
      index($0, begin) { while ((getline line < sec) > 0) print line; skip = 1; next }
      index($0, end) { skip = 0; next }
      !skip { print }' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
  else
    { if [ -n "$title" ]; then echo; echo "## $title"; echo; fi; cat "$section"; } >>"$doc"
  fi
}
