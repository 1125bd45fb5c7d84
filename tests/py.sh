#!/bin/sh
# Runs a Python test with Debian's /usr/bin/python3 (the one with scipy;
# python3 on PATH may be a pyenv one without it).
#   py.sh SCRIPT ARGS...            skip (exit 77, saying so) when absent
#   py.sh --or-path SCRIPT ARGS...  fall back to python3 on PATH (tests that
#                                   need only the standard library)
if [ "$1" = --or-path ]; then
  shift
  [ -x /usr/bin/python3 ] && exec /usr/bin/python3 "$@"
  command -v python3 >/dev/null 2>&1 && exec python3 "$@"
  echo "SKIP: no python3 (neither /usr/bin/python3 nor on PATH)"
  exit 77
fi
[ -x /usr/bin/python3 ] && exec /usr/bin/python3 "$@"
echo "SKIP: /usr/bin/python3 absent"
exit 77
