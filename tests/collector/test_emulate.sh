#!/bin/sh
# collect --emulate runs ollama-emu as a child process: it serves exactly the
# plan's models (a typo'd agent model fails the preflight with exit 3), a
# missing emulator binary is exit 3 naming the fix, collect does not link the
# emulator's server, and no emulator outlives its collect (normal end,
# SIGINT, kill -9); --cpus splits the CPUs between collect and its child.
. "$SRC/lib.sh"
cat >"$WORK/typo.json" <<'P'
{"name": "typo", "runs": 1, "runtimes": ["uv"], "warmup": false, "solo": false,
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "hi", "options": {"num_predict": 5}},
            {"id": "b", "endpoint": "http://127.0.0.1:21434", "model": "gemma3:latets", "prompt": "ho",
             "options": {"num_predict": 5}}]}
P
rc=0
"$COLLECT" --plan "$WORK/typo.json" --emulate-ideal --time-scale 20 --out "$WORK/out" 2>"$WORK/log" || rc=$?
cat "$WORK/log"
[ "$rc" = 3 ] || fail "typo'd model: expected exit 3, got $rc"
grep -q "does not have model 'gemma3:latets'" "$WORK/log" || fail "message lacks the model"
grep -q '"emulate": {"models"' "$WORK/log" || fail "message lacks the fix"
[ ! -e "$WORK/out/uv" ] || fail "runs written despite failed preflight"

# Declared in emulate.models, the same model is served (and recorded).
sed 's/"solo": false,/"solo": false, "emulate": {"models": ["gemma3:latest", "gemma3:latets"]},/' \
    "$WORK/typo.json" >"$WORK/models.json"
"$COLLECT" --plan "$WORK/models.json" --emulate-ideal --time-scale 20 --out "$WORK/out" --quiet \
    || fail "emulate.models: exit $?"
grep -q '"models":\["gemma3:latest","gemma3:latets"\]' "$WORK/out/uv/default/run_1.json" ||
    grep -q '"gemma3:latets"' "$WORK/out/uv/default/run_1.json" || fail "models not recorded"

# A wrong --emulator: exit 3 before anything is measured, naming the flag.
rc=0
"$COLLECT" --plan "$WORK/typo.json" --emulate --emulator "$WORK/nope" --out "$WORK/out3" 2>"$WORK/log3" || rc=$?
[ "$rc" = 3 ] || fail "--emulator nope: expected exit 3, got $rc"
grep -q -- "--emulator $WORK/nope: not an executable" "$WORK/log3" || fail "message: $(cat "$WORK/log3")"
# --emulator PATH: an explicit binary is used.
"$COLLECT" --plan "$WORK/models.json" --emulate-ideal --emulator "$OLLAMA_EMU" --time-scale 20 \
    --out "$WORK/out4" --quiet || fail "--emulator PATH: exit $?"

# The lean binary: the emulator's server is not in collect.
if command -v nm >/dev/null; then
    ! nm "$COLLECT" 2>/dev/null | grep -q ' T emu_start$' || fail "collect still links emu_start"
fi

# --cpus: collect keeps to its CPUs, the emulator child gets the others,
# both recorded in the run; a CPU this process may not use is exit 2.
allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
first=${allowed%%[-,]*}
if [ "$(nproc)" -ge 2 ]; then
    "$COLLECT" --plan "$WORK/models.json" --emulate-ideal --cpus "$first" --time-scale 20 \
        --out "$WORK/out5" --quiet || fail "--cpus $first: exit $?"
    grep -q "\"collector_cpus\":\"$first\"" "$WORK/out5/uv/default/run_1.json" ||
        fail "--cpus $first: run.collector_cpus not recorded"
    ecpus=$(sed 's/.*"emulator":{[^}]*"cpus":"\([^"]*\)".*/\1/' "$WORK/out5/uv/default/run_1.json")
    [ -n "$ecpus" ] && [ "$ecpus" != "$first" ] || fail "--cpus $first: emulator cpus '$ecpus'"
else
    echo "one CPU only: the --cpus split is not checked"
fi
rc=0
"$COLLECT" --plan "$WORK/models.json" --cpus 1023 --out "$WORK/out6" 2>"$WORK/log6" || rc=$?
[ "$rc" = 2 ] || fail "--cpus 1023: expected exit 2, got $rc"
grep -q "may only run on CPUs $allowed" "$WORK/log6" || fail "--cpus 1023: $(cat "$WORK/log6")"

# No orphan: the child is gone after kill -9 of collect, and after SIGINT.
emu_child() { # $1: collect's pid; prints the emulator's pid once it runs
    for _ in $(seq 100); do
        c=$(pgrep -P "$1" 2>/dev/null | head -n 1 || true)
        [ -n "$c" ] && { echo "$c"; return 0; }
        sleep 0.05
    done
    return 1
}
gone() { # $1: pid; waits up to 5 s for it to disappear
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
    return 1
}
command -v pgrep >/dev/null || { echo "pgrep absent: orphan checks skipped"; echo PASS; exit 0; }
for sig in KILL INT; do
    set -- "$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 1 --runs 2 \
        --runtime uv --out "$WORK/out-$sig" --quiet
    "$@" 2>"$WORK/log-$sig" & pid=$!
    child=$(emu_child $pid) || fail "no emulator child of collect ($sig)"
    sleep 0.5
    kill -$sig $pid
    wait $pid || true
    gone "$child" || { kill "$child"; fail "emulator $child outlived collect after SIG$sig"; }
done
echo PASS
