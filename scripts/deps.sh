#!/usr/bin/env bash
# Installs the Debian packages parbench needs, but only those missing.
# Uses sudo when not root. Safe to run again: it does nothing when all is there.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config libcurl4-openssl-dev libuv1-dev
      libgsl-dev libcjson-dev libcmocka-dev libhttp-parser-dev gnuplot-nox curl jq
      clang libclang-rt-14-dev   # clang: the libFuzzer targets in fuzz/ (test fuzz_smoke)
      python3-scipy)             # the statistics' independent checks (skipped without it)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present" >&2
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
