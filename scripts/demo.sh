#!/usr/bin/env bash
# The end-to-end demo (grows with the project): installs, builds, and runs the study.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${NML_SHARED_DIR:-$here/../shared}"
"$here/scripts/setup.sh"
"$here/scripts/build.sh" "$here/build"
nanoml="$here/build/nanoml"

step() { printf '\n== %s\n' "$*"; }

step "1. Inspect the shared TensorFlow Lite Micro models"
for m in hello_world_int8 micro_speech_quantized person_detect; do
  "$nanoml" inspect "$shared/models/tflm/$m.tflite"
  echo
done

step "2. Run them on TensorFlow Lite Micro's golden inputs"
golden="$shared/golden/tflm-reference"
"$nanoml" run "$shared/models/tflm/person_detect.tflite" --input "$golden/person_detect/in_person.bin"
"$nanoml" run "$shared/models/tflm/person_detect.tflite" --input "$golden/person_detect/in_no_person.bin"
"$nanoml" run "$shared/models/tflm/micro_speech_quantized.tflite" --input "$golden/micro_speech_quantized/in_000.bin"
