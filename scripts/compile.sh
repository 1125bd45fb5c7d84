#!/usr/bin/env bash
# Configures and builds one tree. Usage: scripts/compile.sh [BUILD_DIR] [extra cmake args...]
# Default BUILD_DIR is build/ (RelWithDebInfo, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DPARBENCH_WERROR=ON "$@" >&2
cmake --build "$dir" >&2
