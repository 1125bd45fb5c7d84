#!/bin/sh
# Issue 23: run.sh started ollama-emu with >"$work/emu.out" and polled that
# file for `^listening `; on a second run the file still held the previous
# run's address until the new process truncated it, so the test could read
# a dead port. run.sh must read only its own emulator's output. This runs
# it twice in a row in one work folder, with a leftover `emu.out` planted
# (a folder, so a run.sh that still writes or reads that name fails every
# time instead of only when it loses the race).
# Usage: rerun_test.sh OLLAMA_EMU_BINARY WORK_DIR
set -eu
emu=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
rm -rf "$work/emu.out"
mkdir "$work/emu.out"
trap 'rm -rf "$work/emu.out"' EXIT
for round in 1 2; do
    rc=0
    sh "$here/run.sh" "$emu" "$work" >"$work/rerun.log" 2>&1 || rc=$?
    [ "$rc" != 77 ] || { cat "$work/rerun.log"; exit 77; }
    [ "$rc" = 0 ] || { cat "$work/rerun.log"; echo "FAIL: run $round of run.sh exited $rc"; exit 1; }
done
# Each run removed its own output file: nothing piles up in the work folder.
left=$(find "$work" -maxdepth 1 -name 'emu.out.*' | wc -l)
[ "$left" = 0 ] || { echo "FAIL: $left emulator output files left in $work"; exit 1; }
echo "ok: run.sh twice in a row in $work"
