#!/usr/bin/env bash
# Installs everything nanoml needs on a fresh Debian 12 machine (run as root, or with sudo
# available). Idempotent: packages already present are not reinstalled.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake pkg-config git
  libcmocka-dev zlib1g-dev libstb-dev
  dataset-fashion-mnist
  clang libclang-rt-14-dev valgrind
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc xxd
  chromium # the report's browser check (tests/oracles/browser_check.mjs)
)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
# Only for the comparison benchmarks in bench/ (never for building or testing): scripts/setup.sh --bench
[ "${1:-}" = "--bench" ] && packages+=(python3-torch)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# JavaScript test oracles (LiteRT, ONNX Runtime) from the npm registry, pinned by the lock file.
if [ -f "$here/tests/oracles/package.json" ]; then
  if [ ! -d "$here/tests/oracles/node_modules" ] || \
     [ "$here/tests/oracles/package-lock.json" -nt "$here/tests/oracles/node_modules" ]; then
    echo "setup: installing JavaScript oracles (npm)"
    (cd "$here/tests/oracles" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund --loglevel=error)
    touch "$here/tests/oracles/node_modules"
  fi
fi
echo "setup: ok"
