# Starts one ollama-emu process with two ideal instances on free ports and
# its --trace ground truth: sets U1, U2, EMU (pid), EMU_TRACE. Source after
# lib.sh; emu_stop flushes the trace (the emulator writes it at exit).
emu_start() { # extra ollama-emu args...
    EMU_TRACE="$WORK/emu.trace"
    # A fresh output file per start: a test that starts twice would
    # otherwise find the first emulator's two `listening` lines (dead ports).
    EMU_OUT=$(mktemp "$WORK/emu.out.XXXXXX")
    "$OLLAMA_EMU" --listen 127.0.0.1:0 --listen 127.0.0.1:0 --ideal --trace "$EMU_TRACE" \
        --quiet "$@" >"$EMU_OUT" 2>"$WORK/emu.err" &
    EMU=$!
    trap 'kill $EMU 2>/dev/null || true; rm -rf "$WORK"' EXIT
    for _ in $(seq 50); do [ "$(grep -c listening "$EMU_OUT")" = 2 ] && break; sleep 0.1; done
    U1=$(sed -n 's/^listening //p' "$EMU_OUT" | sed -n 1p)
    U2=$(sed -n 's/^listening //p' "$EMU_OUT" | sed -n 2p)
    [ -n "$U1" ] && [ -n "$U2" ] || fail "ollama-emu did not start: $(cat "$WORK/emu.err")"
}
emu_stop() {
    kill -TERM $EMU
    wait $EMU || true
}
