#!/usr/bin/env bash
# Installs the Debian packages parbench needs, but only those missing.
# Uses sudo when not root. Safe to run again: it does nothing when all is there.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config libcurl4-openssl-dev libuv1-dev
      libgsl-dev libcjson-dev libcmocka-dev libhttp-parser-dev gnuplot-nox curl jq
      clang libclang-rt-14-dev   # clang: the libFuzzer targets in fuzz/ (test fuzz_targets_survive_a_short_run)
      python3-scipy)             # the statistics' independent checks (skipped without it)
# Optional: the reference agents of agents/ (scripts/agents-build.sh; their
# tests skip without them). Debian's cargo and crates build the Rust one
# offline; the Python ones run on Debian's python3. A release that lacks one
# of these packages only loses that agent: installed one by one, never fatal.
optional=(cargo librust-tokio-dev librust-reqwest-dev librust-smol-dev librust-async-std-dev
          librust-once-cell-dev librust-serde-json-dev librust-futures-dev
          python3-httpx python3-aiohttp)
absent() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}
mapfile -t missing < <(absent "${pkgs[@]}")
mapfile -t missing_opt < <(absent "${optional[@]}")
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_opt[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present (and the ${#optional[@]} optional ones)" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]} ${missing_opt[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
for p in "${missing_opt[@]}"; do
  echo "deps: installing optional $p" >&2
  $sudo apt-get install -y -q --no-install-recommends "$p" >&2 ||
    echo "deps: optional package $p not installed (the agent needing it is skipped; see agents/README.md)" >&2
done
