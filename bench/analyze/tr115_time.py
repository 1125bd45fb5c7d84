#!/usr/bin/env python3
"""analyze's own time on the TR115 set, paired: the commands run in turn,
N rounds (default 31), so drift of a shared machine hits each alike.
Prints the median wall and CPU (user + sys) milliseconds of each, and with
--script the paired ratio of the study's script to each analyze.

Usage: bench/analyze/tr115_time.py [-n N] [--script FILE] ANALYZE [ANALYZE ...]

Each ANALYZE runs as a user would: `ANALYZE -q --sequential-ref async-std
../shared/data/tr115-v1 -o TMP/report.md` (front page and full report
written). An ANALYZE may carry options after a comma, e.g.
`build/analyze/analyze,-j1`.

--script FILE: the study's own analyze_tr115_results.py (issue 20's
yardstick; in the team's repository, which `fetch` brings; never copied into
this one). It is run with Debian's /usr/bin/python3 (python3-pandas) from a
temporary folder holding scripts/<FILE> and results -> the TR115 results, as
it expects (../results beside its folder; it writes ../analysis)."""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

args = sys.argv[1:]
n = 31
script = None
while args[:1] in (["-n"], ["--script"]):
    if args[0] == "-n":
        n, args = int(args[1]), args[2:]
    else:
        script, args = os.path.abspath(args[1]), args[2:]
if not args:
    sys.exit(__doc__)
here = os.path.dirname(os.path.abspath(__file__))
tr = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data", "tr115-v1"))
if not os.path.isdir(tr):
    sys.exit("tr115_time: %s absent" % tr)
tmp = tempfile.mkdtemp(prefix="pb_tr115_time.")
try:
    cmds = {}
    for k, spec in enumerate(args):
        exe, *opts = spec.split(",")
        out = os.path.join(tmp, "out%d" % k)
        os.mkdir(out)
        cmds[spec] = ([exe] + opts + ["-q", "--sequential-ref", "async-std", tr,
                                      "-o", os.path.join(out, "report.md")], None)
    if script:
        os.mkdir(os.path.join(tmp, "scripts"))
        shutil.copy(script, os.path.join(tmp, "scripts"))
        os.symlink(os.path.join(tr, "results"), os.path.join(tmp, "results"))
        cmds["script"] = (["/usr/bin/python3", os.path.basename(script)],
                          os.path.join(tmp, "scripts"))
    wall = {c: [] for c in cmds}
    cpu = {c: [] for c in cmds}
    for _ in range(n):
        for c, (argv, cwd) in cmds.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall[c].append((time.perf_counter() - t0) * 1e3)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[c].append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
    for c in cmds:
        print("%s: wall median %.1f ms (min %.1f), CPU median %.1f ms, %d runs" %
              (c, statistics.median(wall[c]), min(wall[c]), statistics.median(cpu[c]), n))
    if script:
        for c in args:
            r = sorted(s / a for a, s in zip(wall[c], wall["script"]))
            print("script / %s: paired ratio median %.1fx (range %.1f-%.1f), "
                  "ratio of medians %.1fx" %
                  (c, statistics.median(r), r[0], r[-1],
                   statistics.median(wall["script"]) / statistics.median(wall[c])))
finally:
    shutil.rmtree(tmp)
