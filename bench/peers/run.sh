#!/usr/bin/env bash
# The side-by-side benchmark of issue 14: builds what is installed (the
# CMake tree, and the Rust peer when Debian's cargo and crates are there),
# then runs collect and every peer interleaved against the ideal emulator.
#   bench/peers/run.sh [BUILD_DIR] [bench_peers.py options: --agents 2,16,64,128
#                       --reps 5 --tokens 400 --clients ... --keep DIR]
# The Rust peer is built offline into BUILD_DIR/peers/rust (outside the
# sources). Needs: apt-get install cargo librust-tokio-dev librust-reqwest-dev
# librust-serde-json-dev librust-libc-dev; the Python peer needs python3-httpx.
# Run it on a quiet machine: the figures are timings.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in --*) build=build ;; *) shift || true ;; esac
case "$build" in /*) ;; *) build="$root/$build" ;; esac

if [ ! -x "$build/collector/collect" ]; then
  "$root/scripts/compile.sh" "$build"
else
  cmake --build "$build" >&2
fi
# Debian's cargo (/usr/bin/cargo): a rustup cargo on PATH would ignore the
# offline Debian registry of .cargo/config.toml.
reg=/usr/share/cargo/registry
if [ -x /usr/bin/cargo ] && ls -d "$reg"/tokio-1.* "$reg"/reqwest-0.11.* "$reg"/serde_json-1.* \
     "$reg"/libc-0.2.* >/dev/null 2>&1; then
  (cd "$here/rust" && CARGO_TARGET_DIR="$build/peers/rust" /usr/bin/cargo build --release -q) >&2 ||
    echo "run.sh: the Rust peer did not build: it is left out" >&2
else
  echo "run.sh: Debian cargo or one of librust-{tokio,reqwest,serde-json,libc}-dev absent: the Rust peers are left out" >&2
fi
exec /usr/bin/python3 "$here/bench_peers.py" --build "$build" "$@"
