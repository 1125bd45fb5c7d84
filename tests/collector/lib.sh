# Shared by the collector's shell tests. Expects COLLECT, TRACE_CHECK and
# SRC (tests/collector) in the environment; gives each test a fresh WORK dir.
set -eu
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pbcol.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
