#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in a tree of their
# own and runs each for SECONDS, seeded from fuzz/corpus/ and the test
# fixtures. New inputs go to a scratch corpus, never into the repository.
# Usage: fuzz/run.sh SECONDS [BUILD_DIR]   (BUILD_DIR default: build-fuzz)
# Exit: 0 no finding, 1 a target crashed (its input is kept and named),
#       2 usage, 77 clang or libFuzzer missing (skip).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-}
[[ "$secs" =~ ^[0-9]+$ && "$secs" -ge 1 ]] || { echo "usage: fuzz/run.sh SECONDS [BUILD_DIR]" >&2; exit 2; }
dir=$(realpath -m "${2:-$src/build-fuzz}")
cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
    echo "fuzz: skipped: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2
    exit 77
fi
# libFuzzer's runtime (libclang-rt-*-dev) is a separate package.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" 2>/dev/null; then
    echo "fuzz: skipped: $cc cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)" >&2
    exit 77
fi
if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
        -DPARBENCH_FUZZ=ON -DPARBENCH_SANITIZE=ON >&2
fi
cmake --build "$dir" --target fuzz_all >&2

# Seeds: the hand-written ones, plus every fixture the loaders read and the
# plans the collector's tests use.
seeds=$probe/seeds
mkdir -p "$seeds/load" "$seeds/plan"
find "$src/tests/fixtures" -name '*.json' | while read -r f; do
    cp "$f" "$seeds/load/$(echo "$f" | cksum | cut -d' ' -f1).json"
done
cp "$src"/tests/collector/*.json "$seeds/plan/" 2>/dev/null || true

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
for bin in "$dir"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    t=${bin##*/fuzz_}
    work=$probe/work-$t
    mkdir -p "$work"
    set -- "$work"
    for d in "$src/fuzz/corpus/$t" "$seeds/$t"; do
        [ -d "$d" ] && set -- "$@" "$d"
    done
    echo "== fuzz_$t: ${secs}s ==" >&2
    # Findings (crash-*, leak-*, timeout-*) land in the build dir.
    if ! (cd "$dir" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1536 \
            -max_len=65536 -print_final_stats=1 "$@" 2>"$work.log"); then
        tail -40 "$work.log" >&2
        echo "fuzz: fuzz_$t FAILED; the input is in $dir (crash-*/leak-*/timeout-*)" >&2
        rc=1
    else
        grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work.log" | tail -1 | \
            sed "s/^/fuzz_$t: /" >&2 || true
    fi
done
exit $rc
