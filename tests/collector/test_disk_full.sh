#!/bin/sh
# Issue 22 §2: a sweep that cannot write a run stops at that run, saying
# so, instead of measuring on and discarding everything; the runs written
# before it stay valid and the same command resumes. "Disk full" is made
# with RLIMIT_FSIZE (prlimit; SIGXFSZ ignored so write() fails with EFBIG),
# which works as root and needs no mount: the 1-agent runs (~4 KB) fit
# under 8 KiB, the 6-agent runs (~17 KB) do not.
. "$SRC/lib.sh"
command -v prlimit >/dev/null 2>&1 || { echo "SKIP: prlimit (util-linux) not installed"; exit 77; }
cat >"$WORK/one.json" <<'P'
{"name": "one", "runs": 3, "runtimes": ["uv"], "warmup": false,
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "Count.", "options": {"num_predict": 20}}]}
P
set -- "$COLLECT" --plan "$WORK/one.json" --agents 1,6 --emulate-ideal --time-scale 50 \
    --out "$WORK/out" --progress lines
rc=0
sh -c 'trap "" XFSZ; exec prlimit --fsize=8192 "$@"' sh "$@" 2>"$WORK/log" || rc=$?
cat "$WORK/log"
[ "$rc" = 1 ] || fail "expected exit 1, got $rc"
grep -q "collect: stopped at the first run that could not be written (uv/default-n6 run 1)" "$WORK/log" \
    || fail "no stop message"
grep -q "run the same command again to resume" "$WORK/log" || fail "message lacks the way to resume"
# Order is run k, then config: n1 #1 written, n6 #1 failed, nothing after.
n=$(grep -c '^run ' "$WORK/log")
[ "$n" = 2 ] || fail "measured $n runs, expected 2 (stop at the first failed write)"
"$TRACE_CHECK" "$WORK/out/uv/default-n1" --runs 1 --all-valid >/dev/null || fail "the run written is not valid"
[ ! -e "$WORK/out/uv/default-n6/run_1.json" ] || fail "a partial run file was left"
left=$(find "$WORK/out" -name '.*tmp*' | wc -l)
[ "$left" = 0 ] || fail "$left temp files left"
# Space again: the same command resumes and completes.
"$@" 2>"$WORK/log2" || { cat "$WORK/log2"; fail "resume exited $?"; }
grep -q "5 of 6 runs measured now, 1 already valid" "$WORK/log2" || fail "resume: $(tail -2 "$WORK/log2")"
# The sweep's answer and the next command (issue 22 §5).
grep -q "^collect: uv speedup [0-9.]*x vs sequential (geometric mean of 5 runs measured now over 2 configs" \
    "$WORK/log2" || fail "no answer line: $(cat "$WORK/log2")"
grep -q "^collect: the full report: .*analyze $WORK/out > report.md" "$WORK/log2" || fail "no analyze command"
"$TRACE_CHECK" "$WORK/out" --runs 6 --all-valid >/dev/null || fail "after resume: not all valid"
echo "ok: stopped at the first failed write, resumed"
