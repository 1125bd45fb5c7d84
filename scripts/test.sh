#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. installs missing Debian packages (scripts/deps.sh),
#   2. builds build/ (warnings are errors) and runs every ctest test,
#   3. builds build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
#      and runs every test again (the timing tests too: they run time-scaled
#      and RUN_SERIAL, with bounds that hold under the sanitizers' slowdown).
# Tests that need ../shared/data/tr115-v1 skip (and say so) when it is absent.
# Exit status: 0 when both passes are green, non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/deps.sh

echo "== build (RelWithDebInfo) ==" >&2
scripts/compile.sh build
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300

echo "== build (ASan + UBSan) ==" >&2
scripts/compile.sh build-asan -DPARBENCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 300
