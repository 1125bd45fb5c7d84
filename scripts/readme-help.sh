#!/usr/bin/env bash
# Keeps README.md's "Reference: every flag" section equal to the binaries'
# --help texts. Usage:
#   scripts/readme-help.sh BUILD_DIR           rewrite README.md in place
#   scripts/readme-help.sh BUILD_DIR --check   exit 1 (with a diff) if stale
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/readme-help.sh BUILD_DIR [--check]}
mode=${2:-write}
declare -A bin=([collect]=collector/collect [analyze]=analyze/analyze [ollama-emu]=emulator/ollama-emu)
new=$(mktemp)
trap 'rm -f "$new" "$new".*' EXIT
cp README.md "$new"
for name in collect analyze ollama-emu; do
  exe="$build/${bin[$name]}"
  [ -x "$exe" ] || { echo "readme-help: $exe is missing: build first (scripts/compile.sh $build)" >&2; exit 2; }
  "$exe" --help > "$new.help" 2>&1
  # Replace everything between the two markers by a fenced copy of --help.
  awk -v start="<!-- help:$name -->" -v end="<!-- /help:$name -->" -v help="$new.help" '
    $0 == start { print; print "```text"; while ((getline l < help) > 0) print l; print "```"; skip = 1; next }
    $0 == end   { skip = 0 }
    !skip       { print }' "$new" > "$new.tmp"
  mv "$new.tmp" "$new"
done
if [ "$mode" = "--check" ]; then
  if ! diff -u README.md "$new"; then
    echo "readme-help: README.md's flag reference differs from --help (above); run scripts/readme-help.sh $build" >&2
    exit 1
  fi
  echo "readme-help: README.md matches the --help of collect, analyze and ollama-emu" >&2
else
  cp "$new" README.md
fi
