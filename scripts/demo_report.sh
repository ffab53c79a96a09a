#!/usr/bin/env bash
# The demo's report step (sourced by scripts/demo.sh): report/index.md from the other steps'
# results, its pictures copied next to it, then `nanoml report` for the self-contained
# report/index.html. Needs the variables and helpers of scripts/demo.sh.

fmt3() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else printf "%.3f", v }'; }
step_time() { demo_fmt_time "$(cat "$DEMO_WORK/$1/.time" 2>/dev/null || echo 0)"; }

# A value from a deploy report.
dep_instr() { sed -n 's/^instructions per inference: \([0-9]*\).*/\1/p' "$1"; }
dep_macs() { awk '$1 == "total" { print $3; exit }' "$1"; }
dep_mem() { sed -n "s/^  $2 *\([0-9]*\) B.*/\1/p" "$1" | head -n1; }
dep_fit() { sed -n "s/^  LINKER=$2 .*-> \(.*\)$/\1/p" "$1"; }
dep_ram() { sed -n "s/^  LINKER=$2 *RAM *\([0-9]*\) B.*/\1/p" "$1"; }
dep_flash() { sed -n "s/^  LINKER=$2 .*flash *\([0-9]*\) B.*/\1/p" "$1"; }
dep_result() { sed -n 's/^result: //p' "$1"; }

# The detections of a `nanoml detect` printout, as "class score" lines joined by <br>.
detections() {
  awk '/^  [a-z]/ { printf "%s%s %s", (n++ ? "<br>" : ""), $1, $2 }
       END { if (!n) printf "(none)" }' "$1"
}

report_train() {
  local t="$DEMO_WORK/train" s
  echo "## 1. LeNet-5 on Fashion-MNIST, three definition styles"
  echo
  echo "\`nanoml train lenet5 --style STYLE --epochs $epochs\` defines the same network in C in"
  echo "three ways (a sequential layer list, a functional graph, a custom callback layer), trains"
  echo "it on the 60,000 training images on one CPU thread and writes a float32 .tflite;"
  echo "\`nanoml eval\` runs that file in nanoml's runtime on the 10,000 test images."
  echo "Step time: $(step_time train)."
  echo
  echo "| style | epochs | training time | file | bytes | test accuracy (nanoml eval) |"
  echo "| --- | ---: | ---: | --- | ---: | ---: |"
  for s in sequential functional custom; do
    local secs
    secs="$(sed -n 's/^training: .* in \([0-9.]*\) s.*/\1 s/p' "$t/train_$s.txt")"
    echo "| $s | $epochs | $secs | [lenet5_$s.tflite]($rel/train/lenet5_$s.tflite) |" \
      "$(commas "$(stat -c %s "$t/lenet5_$s.tflite")") | $(acc_of "$t/eval_$s.txt")% |"
  done
  echo
  [ "$full" = 1 ] || echo "The default run trains $epochs epochs (\`scripts/demo.sh --full\`: 10), so the" \
    "float baseline is not fully trained: in step 2, models fine-tuned for further epochs can end above it."
  echo
}

report_compress() {
  local c="$DEMO_WORK/compress"
  echo "## 2. Compression"
  echo
  echo "The sequential model of step 1 compressed with nanoml's post-training quantization,"
  echo "pruning, clustering and quantization-aware training, alone and combined (fine-tuning"
  echo "$tune_epochs epoch(s) after pruning/clustering, $qat_epochs for QAT; calibration on $calib"
  echo "training images). \`nanoml compare\` measures every file and its accuracy on the 10,000"
  echo "test images in nanoml's runtime. Step time: $(step_time compress)."
  echo
  cat "$c/table.md"
  echo
  echo "![size vs accuracy](pareto.png)"
  echo
  echo "Commands (\`lenet5.tflite\` is step 1's sequential model):"
  echo
  echo '```'
  cat "$c/commands.txt"
  echo '```'
  echo
}

report_fastestdet() {
  local d="$DEMO_WORK/fastestdet" m
  echo "## 3. FastestDet: ONNX import, int8, detections and mAP"
  echo
  echo "\`nanoml import\` converts the author's FastestDet.onnx to a float32 .tflite at 352x352 and"
  echo "re-targeted to 128x86; \`nanoml preprocess\` turns coco128-val images 0-$((det_calib - 1))"
  echo "into calibration tensors and \`nanoml quantize\` makes per-channel int8 models (int8 I/O)."
  echo "Step time: $(step_time fastestdet)."
  echo
  echo "**Check against ONNX Runtime** (the original ONNX model on the same input, images/3.jpg at"
  echo "352x352): $(cat "$d/ort_check.txt")"
  echo
  echo "**mAP on coco128-val** (128 images, \`nanoml eval-detect\` with FastestDet's reference"
  echo "protocol: score > 0.001, class-agnostic NMS IoU 0.45). The author's ONNX Runtime figures"
  echo "at 352x352: precision 0.599, recall 0.395, mAP50 0.342, mAP50-95 0.188."
  echo
  echo "| model | input | file | bytes | precision | recall | mAP50 | mAP50-95 |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
  for m in float_352 int8_352 float_128x86 int8_128x86; do
    local j="$d/eval_$m.json" kind="${m%%_*}" size="${m#*_}"
    [ "$size" = 352 ] && size=352x352
    echo "| $kind | $size | [$m.tflite]($rel/fastestdet/$m.tflite) |" \
      "$(commas "$(stat -c %s "$d/$m.tflite")") | $(fmt3 "$(json_num "$j" precision)") |" \
      "$(fmt3 "$(json_num "$j" recall)") | $(fmt3 "$(json_num "$j" mAP50)") |" \
      "$(fmt3 "$(json_num "$j" mAP50_95)") |"
  done
  echo
  echo "At 128x86 the network reads box sizes from the object's extent in pixels as it learned it at"
  echo "352x352, so the decoder scales them by 352/128 and 352/86 (\`--train-size\`, default 352x352);"
  echo "even so, many coco128-val objects are only a few pixels tall at 86 rows and mAP stays low."
  echo "[docs/detection.md]($docs_rel/detection.md) explains it."
  echo
  echo "**Detections on images/3.jpg** (\`nanoml detect\`: score > 0.65, per-class NMS IoU 0.45),"
  echo "next to the author's ONNX Runtime picture:"
  echo
  echo "| ONNX Runtime (the author's picture) | nanoml float 352x352 | nanoml int8 352x352 |"
  echo "| --- | --- | --- |"
  echo "| ![reference](det_reference_onnxruntime.jpg) | ![float 352x352](det_float_352.jpg) |" \
    "![int8 352x352](det_int8_352.jpg) |"
  echo "| | $(detections "$d/detect_float_352.txt") | $(detections "$d/detect_int8_352.txt") |"
  echo
  echo "| nanoml float 128x86 | nanoml int8 128x86 |"
  echo "| --- | --- |"
  echo "| ![float 128x86](det_float_128x86.jpg) | ![int8 128x86](det_int8_128x86.jpg) |"
  echo "| $(detections "$d/detect_float_128x86.txt") | $(detections "$d/detect_int8_128x86.txt") |"
  echo
}

report_deploy() {
  local p="$DEMO_WORK/deploy" m log name
  echo "## 4. RV32IMC firmware under QEMU and X-HEEP"
  echo
  echo "\`nanoml export\` writes each int8 model as C sources (the model bytes as a const array,"
  echo "the exact arena size, an op resolver with only the kernels used); \`nanoml deploy --target"
  echo "rv32-qemu\` builds bare-metal RV32IMC firmware (riscv64-unknown-elf-gcc + picolibc, -Os),"
  echo "runs it on qemu-system-riscv32 and counts retired instructions (minstret, exact under"
  echo "\`-icount shift=0\`). The firmware compares its outputs with the host runtime's (LeNet-5:"
  echo "5 Fashion-MNIST test images; FastestDet: images/3.jpg). Step time: $(step_time deploy)."
  echo
  echo "| model | instructions / inference | MACs | instr / MAC | arena | .text | flash (.rodata) | stack peak | outputs vs host | C sources | firmware |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
  for m in lenet5 fastestdet; do
    log="$p/deploy_$m.txt"
    name="$([ "$m" = lenet5 ] && echo "LeNet-5 int8" || echo "FastestDet int8 128x86")"
    local ins macs cname
    ins="$(dep_instr "$log")"
    macs="$(dep_macs "$log")"
    cname="$([ "$m" = lenet5 ] && echo lenet5_int8 || echo fastestdet_int8)"
    echo "| $name | $(commas "$ins") | $(commas "$macs") |" \
      "$(awk -v i="$ins" -v m="$macs" 'BEGIN { if (m > 0) printf "%.1f", i / m }') |" \
      "$(commas "$(dep_mem "$log" arena)") | $(commas "$(dep_mem "$log" .text)") |" \
      "$(commas "$(dep_mem "$log" .rodata)") | $(commas "$(dep_mem "$log" stack)") |" \
      "$(dep_result "$log") | [${cname}_model.c]($rel/deploy/c/${cname}_model.c), [.h]($rel/deploy/c/${cname}_model.h) |" \
      "[firmware.elf]($rel/deploy/fw_$m/firmware.elf), [map]($rel/deploy/fw_$m/firmware.map) |"
  done
  echo
  echo "**X-HEEP memory** (RAM in 32 KiB banks; the firmware's code, data, arena and stack against"
  echo "each LINKER mode; the smallest configuration that fits):"
  echo
  echo "| model | LINKER | RAM bytes | flash bytes | fits |"
  echo "| --- | --- | ---: | ---: | --- |"
  for m in lenet5 fastestdet; do
    log="$p/deploy_$m.txt"
    name="$([ "$m" = lenet5 ] && echo "LeNet-5 int8" || echo "FastestDet int8 128x86")"
    local mode_
    for mode_ in on_chip flash_load flash_exec; do
      echo "| $name | $mode_ | $(commas "$(dep_ram "$log" "$mode_")") |" \
        "$(commas "$(dep_flash "$log" "$mode_")") | $(dep_fit "$log" "$mode_") |"
    done
  done
  echo
  echo "X-HEEP application folder for LeNet-5 int8 (\`nanoml deploy --target xheep\`; copy it to"
  echo "an X-HEEP checkout's sw/applications/): [xheep_lenet5/]($rel/deploy/xheep_lenet5/README.md)."
  echo
  echo "**Instructions per layer** (one inference; each count includes the interpreter's dispatch):"
  echo
  echo "![LeNet-5 per layer](bars_lenet5.png)"
  echo
  echo "![FastestDet per operator kind](bars_fastestdet_kinds.png)"
  echo
  echo "![FastestDet per layer](bars_fastestdet.png)"
  echo
}

# compare_field NAME FIELD: file_bytes or accuracy of DEMO_WORK/compress/NAME.tflite, from the
# CSV of nanoml compare (counted from the end: a label may hold commas)
compare_field() {
  local col
  case "$2" in file_bytes) col=8 ;; accuracy) col=2 ;; *) return 1 ;; esac
  grep "/$1.tflite," "$DEMO_WORK/compress/table.csv" | awk -F, -v c="$col" '{ print $(NF - c) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b }'; }
points() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", 100 * (a - b) }'; }

report_headlines() {
  local d="$DEMO_WORK/fastestdet" p="$DEMO_WORK/deploy"
  local fb fa qb qa pb pa f352 q352
  fb="$(compare_field float32 file_bytes)"
  fa="$(compare_field float32 accuracy)"
  qb="$(compare_field ptq_int8 file_bytes)"
  qa="$(compare_field ptq_int8 accuracy)"
  pb="$(compare_field pcqat file_bytes)"
  pa="$(compare_field pcqat accuracy)"
  f352="$(json_num "$d/eval_float_352.json" mAP50)"
  q352="$(json_num "$d/eval_int8_352.json" mAP50)"
  echo "## Headlines"
  echo
  echo "- **Training in C**: LeNet-5 defined in three styles reaches"
  echo "  $(acc_of "$DEMO_WORK/train/eval_sequential.txt")% / $(acc_of "$DEMO_WORK/train/eval_functional.txt")% /"
  echo "  $(acc_of "$DEMO_WORK/train/eval_custom.txt")% test accuracy in $epochs epochs (sequential / functional / custom)."
  echo "- **int8 post-training quantization**: $(ratio "$fb" "$qb") smaller file, accuracy $(points "$qa" "$fa")"
  echo "  points against float32. **PCQAT** (50% sparsity + 16 clusters + QAT int8): $(ratio "$fb" "$pb")"
  echo "  smaller, $(points "$pa" "$fa") points."
  echo "- **FastestDet from ONNX**: nanoml's import matches ONNX Runtime"
  echo "  ($(sed -n 's/.*max |difference| \([^ ]*\) .*/max difference \1/p' "$d/ort_check.txt"));"
  echo "  mAP50 on coco128-val $(fmt3 "$f352") float (the author's ONNX Runtime figure: 0.342), $(fmt3 "$q352") int8"
  echo "  ($(points "$q352" "$f352") points) in a $(ratio "$(stat -c %s "$d/float_352.tflite")" "$(stat -c %s "$d/int8_352.tflite")") smaller file."
  echo "- **On the microcontroller**: the RV32IMC firmware's outputs equal the host runtime's"
  echo "  (LeNet-5: $(dep_result "$p/deploy_lenet5.txt" | cut -d' ' -f1), FastestDet: $(dep_result "$p/deploy_fastestdet.txt" | cut -d' ' -f1)); LeNet-5 int8 takes"
  echo "  $(commas "$(dep_instr "$p/deploy_lenet5.txt")") instructions per inference and fits $(dep_fit "$p/deploy_lenet5.txt" on_chip);"
  echo "  FastestDet int8 128x86 takes $(commas "$(dep_instr "$p/deploy_fastestdet.txt")") and fits"
  echo "  $(dep_fit "$p/deploy_fastestdet.txt" flash_exec) with code and constants in flash (LINKER=flash_exec)."
  echo
}

report_steps() {
  echo "## The steps"
  echo
  echo "| step | what | time | key result |"
  echo "| --- | --- | ---: | --- |"
  local s what
  for s in train compress fastestdet deploy; do
    case "$s" in
      train) what="LeNet-5 trained in three styles, evaluated" ;;
      compress) what="every compression technique and combination, table and plot" ;;
      fastestdet) what="FastestDet import, ONNX Runtime check, int8, detections, mAP" ;;
      deploy) what="C arrays, RV32IMC firmware under QEMU, X-HEEP fit" ;;
    esac
    echo "| $s | $what | $(step_time "$s") | $(head -n1 "$DEMO_WORK/$s/summary.txt") |"
  done
  echo
}

step_report() {
  local rel docs_rel
  rel="$(realpath -m --relative-to="$(demo_dir report)" "$DEMO_WORK")"
  docs_rel="$(realpath -m --relative-to="$(demo_dir report)" "$here/docs")"
  cp "$DEMO_WORK/compress/pareto.png" "$DEMO_WORK/deploy/"bars_*.png "$out/"
  cp "$DEMO_WORK/fastestdet/"det_*.jpg "$out/"
  {
    echo "# nanoml: the study, end to end"
    echo
    echo "Generated by \`scripts/demo.sh\` ($mode run) on $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m)," \
      "$(nproc) cores, nanoml $("$nanoml" version | awk '{ print $2 }')" \
      "(commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown))."
    echo "Every number below was produced by a \`nanoml\` command; the step results are in"
    echo "[$(basename "$DEMO_WORK")/]($rel/) (each step's folder holds its command outputs)."
    echo
    report_headlines
    report_steps
    report_train
    report_compress
    report_fastestdet
    report_deploy
  } >"$out/index.md"
  "$nanoml" report "$out" --title "nanoml study report"
  echo "report: $(demo_dir report)/index.html" >"$out/summary.txt"
}
