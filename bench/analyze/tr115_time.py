#!/usr/bin/env python3
"""analyze's own time on the TR115 set, paired: the binaries given run in
turn, N rounds (default 31), so drift of a shared machine hits each alike.
Prints the median wall and CPU (user + sys) milliseconds of each.

Usage: bench/analyze/tr115_time.py [-n N] ANALYZE [ANALYZE_BEFORE ...]
Runs `ANALYZE -q --sequential-ref async-std ../shared/data/tr115-v1` (the
issue 20 command; the default bootstrap of 2000 resamples)."""
import os
import resource
import statistics
import subprocess
import sys
import time

args = sys.argv[1:]
n = 31
if args[:1] == ["-n"]:
    n, args = int(args[1]), args[2:]
if not args:
    sys.exit(__doc__)
here = os.path.dirname(os.path.abspath(__file__))
tr = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data", "tr115-v1"))
if not os.path.isdir(tr):
    sys.exit("tr115_time: %s absent" % tr)
wall = {b: [] for b in args}
cpu = {b: [] for b in args}
for _ in range(n):
    for b in args:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([b, "-q", "--sequential-ref", "async-std", tr], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall[b].append((time.perf_counter() - t0) * 1e3)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[b].append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
for b in args:
    print("%s: wall median %.1f ms (min %.1f), CPU median %.1f ms, %d runs" %
          (b, statistics.median(wall[b]), min(wall[b]), statistics.median(cpu[b]), n))
