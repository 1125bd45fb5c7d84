#!/bin/sh
# Issue 22 §2: an --out that cannot keep the runs is refused (exit 2, the
# folder and the fix named) before any request reaches the server; the
# emulator's --trace proves no stream was served. Works as root (which
# ignores permission bits): a file where a folder is expected, a folder
# under a file, /proc, a read-only bind mount when mount is permitted.
. "$SRC/lib.sh"
. "$SRC/emu_lib.sh"
emu_start --time-scale 50
refused() { # name out-dir expected-message-part
    rc=0
    "$COLLECT" --endpoint "$U1" --prompt hi --num-predict 5 --runtime uv --runs 1 \
        --no-warmup --out "$2" >"$WORK/$1.out" 2>"$WORK/$1.err" || rc=$?
    [ "$rc" = 2 ] || { cat "$WORK/$1.err"; fail "$1: expected exit 2, got $rc"; }
    grep -q -- "--out $2 cannot hold the runs" "$WORK/$1.err" || fail "$1: message: $(cat "$WORK/$1.err")"
    grep -qF -- "$3" "$WORK/$1.err" || fail "$1: message lacks '$3': $(cat "$WORK/$1.err")"
    ! grep -q '^run ' "$WORK/$1.err" || fail "$1: a run was measured"
}
printf 'not a folder\n' >"$WORK/file"
refused file "$WORK/file" "$WORK/file exists and is not a folder"
refused under_file "$WORK/file/sub" "$WORK/file exists and is not a folder, so $WORK/file/sub cannot be one"
refused proc /proc/parbench-out "cannot create files in /proc"
mkdir -p "$WORK/rundir"
printf 'x\n' >"$WORK/rundir/uv"
refused run_dir "$WORK/rundir" "cannot hold the runs of uv/default"
[ "$(cat "$WORK/file")" = "not a folder" ] || fail "the file given as --out was changed"
# A read-only folder: a read-only bind mount stops root too; without the
# right to mount, permission bits do as long as we are not root.
mkdir -p "$WORK/ro"
if mount --bind "$WORK/ro" "$WORK/ro" 2>/dev/null; then
    if mount -o remount,bind,ro "$WORK/ro" 2>/dev/null; then
        refused ro_mount "$WORK/ro/out" "Read-only file system"
    else
        echo "note: cannot remount read-only here; read-only mount not checked"
    fi
    umount "$WORK/ro"
elif [ "$(id -u)" != 0 ]; then
    chmod 0555 "$WORK/ro"
    refused ro_perm "$WORK/ro/out" "Permission denied"
    chmod 0755 "$WORK/ro"
else
    echo "note: root without mount: read-only folder not checked (file cases above cover refusal)"
fi
emu_stop
# The emulator served no stream: its trace holds no chunk line.
n=$(grep -vc '^#' "$EMU_TRACE" || true)
[ "$n" = 0 ] || fail "the emulator served $n chunks: collect measured before refusing"
# Nothing was created by the checks.
[ ! -e "$WORK/rundir/manifest.json" ] && [ "$(ls -A "$WORK/rundir")" = uv ] || fail "the checks left files"
echo "ok: unusable --out refused before any request"
