#!/bin/sh
# The Rust agent's unit tests (stream reader, agents/rust/src/stream.rs):
# `cargo test` offline, reusing the release build's compiled crates. Skips
# (77) until scripts/agents-build.sh has built pb-agent: a first build of
# the crates takes minutes, too long for a test.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] || { echo "SKIP: Debian's cargo/rustc not installed (scripts/deps.sh)"; exit 77; }
[ -x "$root/agents/rust/target/release/pb-agent" ] ||
    { echo "SKIP: pb-agent not built yet (scripts/agents-build.sh)"; exit 77; }
cd "$root/agents/rust"
RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$root/agents/rust/target" \
    exec /usr/bin/cargo test --release --offline -q
