#!/usr/bin/env bash
# The end-to-end demo (grows with the project): installs, builds, and runs the study.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh" "$here/build"
"$here/build/nanoml" --help
