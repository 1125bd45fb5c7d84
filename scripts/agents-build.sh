#!/usr/bin/env bash
# Builds the reference agents of agents/ that can be built here, skipping
# (with a message on stderr) those whose Debian packages are not installed,
# and prints the command of every agent that is ready, one per line (stdout),
# as an exec runtime would run it:
#   agents/rust/target/release/pb-agent --runtime {tokio-default,...}
#   /usr/bin/python3 agents/python/pb_agent_{httpx,aiohttp}.py
# Offline: the Rust crate builds from Debian's registry of librust-*-dev
# crates (agents/rust/.cargo/config.toml) with Debian's cargo and rustc
# (a rustup toolchain on PATH would not read that registry the same way).
# Fast when already built (cargo only checks). Exit 0 also when something is
# skipped (the agents are optional); 1 when an installed toolchain fails to
# build the crate.
# Usage: scripts/agents-build.sh [--quiet]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quiet=""
[ "${1:-}" = "--quiet" ] && quiet=-q
say() { echo "agents-build: $*" >&2; }

# The crates the Rust agent needs, as Debian names them in its registry
# (dirs <crate>-<version>) and as packages.
reg=/usr/share/cargo/registry
crates="tokio-1. reqwest-0.11. smol-1. async-std-1. once_cell-1. serde_json-1. futures-0.3."
pkgs="cargo librust-tokio-dev librust-reqwest-dev librust-smol-dev librust-async-std-dev librust-once-cell-dev librust-serde-json-dev librust-futures-dev"
missing=""
[ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] || missing="Debian's cargo/rustc"
for c in $crates; do
  ls -d "$reg/$c"* >/dev/null 2>&1 || missing="$missing ${c%-*}"
done
if [ -n "$missing" ]; then
  say "Rust agent skipped: missing ${missing# } (apt-get install $pkgs)"
else
  say "building the Rust agent (agents/rust, offline)"
  if ! (cd "$root/agents/rust" && RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$root/agents/rust/target" \
          /usr/bin/cargo build --release --offline $quiet >&2); then
    say "the Rust agent did not build (above); cargo and the crates are installed, so this is a bug"
    exit 1
  fi
  for rt in tokio-default tokio-localset smol smol-1kb async-std; do
    echo "$root/agents/rust/target/release/pb-agent --runtime $rt"
  done
fi

# The Python agents need no build, only their library in Debian's python3
# (`python3` on PATH may be another interpreter).
for lib in httpx aiohttp; do
  if /usr/bin/python3 -c "import $lib" 2>/dev/null; then
    echo "/usr/bin/python3 $root/agents/python/pb_agent_$lib.py"
  else
    say "Python $lib agent skipped: /usr/bin/python3 has no $lib (apt-get install python3-$lib)"
  fi
done
