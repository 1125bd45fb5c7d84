# Sourced by the client tests' run.sh (bash): skip() and npm_setup.
#   npm_setup WORK SRC FILE...  checks node >= 18 and npm (skipping, 77,
#   when absent), copies SRC's package.json, package-lock.json and FILEs
#   into WORK, and installs the pinned packages there with npm ci, again
#   only when the lock file changed since the last install.
skip() { echo "SKIP: $*" >&2; exit 77; }

npm_setup() {
  local work=$1 src=$2
  shift 2
  command -v node >/dev/null || skip "node is not installed (the client tests need node >= 18)"
  command -v npm >/dev/null || skip "npm is not installed (needed to install the pinned clients)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || skip "node $(node --version) is too old (the clients need >= 18)"
  mkdir -p "$work"
  cp "$src/package.json" "$src/package-lock.json" "$@" "$work/"
  if ! cmp -s "$work/package-lock.json" "$work/node_modules/.parbench-lock" 2>/dev/null; then
    (cd "$work" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2) ||
      skip "npm ci failed in $work (no registry access?)"
    cp "$work/package-lock.json" "$work/node_modules/.parbench-lock"
  fi
}
