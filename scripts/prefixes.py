#!/usr/bin/env python3
"""Lists non-static functions whose prefix does not match their file.

The rule (libuv style): a function defined in collector/sweep.c is
pb_sweep_*, one in emulator/emu_sched.c is emu_sched_*. A file `a_b.c` may
also use the prefix of its family `a_*` (plan_steps.c: pb_plan_*). The few
accepted exceptions are listed below with their reason; anything else is
printed and the exit status is 1.

Usage: scripts/prefixes.py [REPO_DIR]      (run by hand; not a ctest)
"""
import os
import re
import sys

DIRS = ["collector", "emulator", "analyze", "report", "common"]
PROJECT = r"^(pb_|emu_|px_)"

# file -> (accepted prefixes after pb_/emu_/px_, why)
ACCEPTED = {
    "collector/driver_uv.c": (["uvdrv"], "the uv building block of driver.h, apart from the "
                              "pb_driver_uv_* runtime built on it"),
    "collector/workflow.c": (["wf"], "pb_wf_*: the workflow engine's short prefix"),
    "collector/proxy.c": (["handle"], "px_* is the proxy's internal prefix (proxy_internal.h)"),
    "collector/proxy_conn.c": (["conn", "conns"], "px_conn_*: the proxy's connections"),
    "collector/proxy_record.c": (["rec", "buf"], "px_rec_*: the proxy's records"),
    "collector/server_proc.c": (["srvset"], "pb_srvset_*: the server set this file runs"),
    "collector/dialect.c": (["request", "reply", "excerpt"], "the request/reply every dialect "
                            "shares (dialect.h)"),
    "collector/plan.c": (["overrides", "runtime"], "the plan's own types (plan.h)"),
    "collector/plan_servers.c": (["server", "servers"], "the plan's server specs"),
    "collector/plan_steps.c": (["steps", "counts", "arrival"], "the plan's steps, counts and "
                               "arrival (plan_steps.h)"),
    "analyze/pb_model.c": (["dataset", "agent", "request"], "the data model's types (pb_model.h)"),
    "emulator/emu_server.c": (["start", "stop", "port", "get", "log", "trace", "record", "scale"],
                              "the emulator library's public API (emu.h) and its thread"),
    "emulator/emu_http.c": (["conn"], "emu_conn_*: the HTTP connection"),
    "emulator/emu_env.c": (["options", "duration"], "the options read from the environment"),
    "emulator/emu_stream.c": (["buf", "rfc3339nano"], "the stream writer's buffer and clock"),
}

DEF = re.compile(r"^(?!static\b)[A-Za-z_][\w \*]*?[\s\*](\w+)\([^;]*$")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    bad = 0
    for d in DIRS:
        for f in sorted(os.listdir(os.path.join(root, d))):
            if not f.endswith(".c") or f == "main.c":
                continue
            rel = f"{d}/{f}"
            base = re.sub(PROJECT, "", f[:-2])
            family = base.split("_")[0]
            ok_prefixes = [base, family] + ACCEPTED.get(rel, ([], ""))[0]
            with open(os.path.join(root, d, f), encoding="utf-8") as fh:
                for i, line in enumerate(fh, 1):
                    m = DEF.match(line)
                    if not m or line.rstrip().endswith(";") or "typedef" in line:
                        continue
                    name = re.sub(PROJECT, "", m.group(1))
                    if not any(name == p or name.startswith(p + "_") for p in ok_prefixes):
                        print(f"{rel}:{i}: {m.group(1)}")
                        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
