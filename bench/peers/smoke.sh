#!/bin/sh
# Smoke test of the side-by-side benchmark: bench_peers.py end to end on a
# tiny size (2 agents, 5 tokens, 1 repetition) with collect and the httpx
# peer (and the tokio peer when run.sh built it). Checks every client gives
# a row with 5 tokens' worth of figures, and that the httpx peer's own
# output has one A and one C line per agent with 6 line times (5 tokens and
# the final line) and an R line (its streaming CPU). Skips (77) without
# Debian's python3-httpx.
set -eu
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c 'import httpx' 2>/dev/null || { echo "SKIP: /usr/bin/python3 has no httpx (apt-get install python3-httpx)"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pbpeers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
clients=collect-uv,collect-threads,httpx
[ -x "$BUILD/peers/rust/release/peer-tokio" ] && clients=$clients,tokio-current,tokio-multi
/usr/bin/python3 "$HERE/bench_peers.py" --build "$BUILD" --agents 2 --reps 1 --tokens 5 \
    --clients "$clients" --keep "$WORK" >"$WORK/table.md" 2>"$WORK/log" || { cat "$WORK/log"; exit 1; }
cat "$WORK/table.md"
for c in $(echo "$clients" | tr , ' '); do
    grep -q "^| $c | 2 | [0-9.]*% | " "$WORK/table.md" || { echo "FAIL: no row for $c"; cat "$WORK/log"; exit 1; }
done
! grep -q "failed" "$WORK/table.md" "$WORK/log" || { echo "FAIL: a client failed"; cat "$WORK/log"; exit 1; }
# The same work for every client: 5 tokens per agent, no seeded early stop.
! grep -q "tokens other than" "$WORK/log" || { echo "FAIL: unequal work"; cat "$WORK/log"; exit 1; }
a=$(grep -c '^A httpx-[0-9]*-[12] [0-9]* [0-9]* [0-9]* 5 ' "$WORK/httpx-2.stdout")
c=$(awk '$1 == "C" && NF == 8' "$WORK/httpx-2.stdout" | wc -l)
[ "$a" = 2 ] && [ "$c" = 2 ] || { echo "FAIL: httpx output: $a A lines, $c C lines"; cat "$WORK/httpx-2.stdout"; exit 1; }
# The streaming's own CPU: an R line from the peer, a figure in the table.
grep -q '^R [0-9]* [0-9]* [0-9]*$' "$WORK/httpx-2.stdout" || { echo "FAIL: no R line from httpx"; exit 1; }
grep -q '^| collect-uv | 2 | [0-9.]*% | [0-9.]* ms | [0-9.]* ms ([0-9.]*) |' "$WORK/table.md" ||
    { echo "FAIL: no streaming CPU for collect-uv"; exit 1; }
echo PASS
