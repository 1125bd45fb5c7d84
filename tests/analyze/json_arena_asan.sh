#!/bin/sh
# The cJSON arena must not hide memory errors from AddressSanitizer: a
# write past an allocation and a read of a tree after the buffer's reuse
# are both reported (use-after-poison). Skipped (77) outside ASan builds.
PROBE=$1
for what in overflow stale; do
    out=$("$PROBE" "$what" 2>&1)
    rc=$?
    if [ $rc -eq 77 ]; then
        echo "skipped: $out"
        exit 77
    fi
    if [ $rc -eq 0 ] || ! printf '%s\n' "$out" | grep -q "use-after-poison"; then
        echo "FAIL: json_arena_probe $what was not reported by ASan (exit $rc):"
        printf '%s\n' "$out" | head -20
        exit 1
    fi
    echo "ok: $what reported by ASan"
done
