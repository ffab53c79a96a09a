#!/usr/bin/env bash
# Training throughput of LeNet-5 on Fashion-MNIST on ONE thread: nanoml (C) against PyTorch 1.13
# from Debian (python3-torch), the identical model (61,706 parameters), Adam, the same batch
# size, one epoch over the 60,000 training images each, data already in memory. Each side runs
# ROUNDS times, alternating, and the best round counts (other load on the machine only ever
# slows a round down).
#
#   bench/train_throughput.sh [--build DIR] [--batch B] [--rounds N]
#
# Python is used here only as the comparison; nanoml's build and tests never need it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
batch=64
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "train_throughput.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
nanoml="$build/nanoml"
[ -x "$nanoml" ] || { echo "train_throughput.sh: build nanoml first ($nanoml missing)" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "train_throughput.sh: needs PyTorch (python3-torch): scripts/setup.sh --bench" >&2; exit 1; }
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

best_nanoml=0
best_torch=0
for r in $(seq "$rounds"); do
  n=$("$nanoml" train lenet5 --epochs 1 --batch "$batch" --lr 0.001 --schedule constant 2>/dev/null |
      sed -n 's/^training: .*(\([0-9]*\) images\/s)$/\1/p')
  t=$(/usr/bin/python3 "$here/bench/lenet5_torch.py" --batch "$batch" --epochs 1 |
      sed -n 's/.* \([0-9]*\) images\/s.*/\1/p')
  echo "round $r: nanoml $n images/s, pytorch $t images/s"
  [ "$n" -gt "$best_nanoml" ] && best_nanoml=$n
  [ "$t" -gt "$best_torch" ] && best_torch=$t
done
torch_version=$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')
echo
echo "machine:  $(lscpu | sed -n 's/^Model name: *//p') ($(getconf _NPROCESSORS_ONLN) cores, 1 thread used)"
echo "date:     $(date -u +%Y-%m-%d)"
echo "sgemm:    $("$nanoml" train lenet5 --epochs 1 --limit 16 --batch 16 2>&1 | sed -n 's/.*sgemm \(.*\)$/\1/p')"
echo "batch:    $batch, Adam, LeNet-5 61,706 parameters, 60,000 images per round"
echo "nanoml:   $best_nanoml images/s (best of $rounds)"
echo "pytorch:  $best_torch images/s (best of $rounds, torch $torch_version)"
awk -v a="$best_nanoml" -v b="$best_torch" 'BEGIN { printf "ratio:    %.2fx\n", a / b }'
