#!/bin/sh
# GPU telemetry: a fake nvidia-smi on PATH (run as collect runs the real
# one, with -lms 100) has its samples in every trace, stamped on collect's
# clock inside the run; without it collect says so once and records
# "absent"; --no-nvidia-smi does not run it.
. "$SRC/lib.sh"
mkdir "$WORK/bin"
cat >"$WORK/bin/nvidia-smi" <<P
#!/bin/sh
echo "\$@" >"$WORK/smi.args"
i=0
while [ \$i -lt 600 ]; do
    echo "\$((40 + i % 7)), 2345, [N/A], 1800"
    i=\$((i + 1))
    sleep 0.1
done
P
chmod +x "$WORK/bin/nvidia-smi"
PATH="$WORK/bin:$PATH" "$COLLECT" --endpoint http://127.0.0.1:1 --emulate --time-scale 4 --agents 2 \
    --prompt hi --num-predict 40 --runs 2 --runtime uv --out "$WORK/g" 2>"$WORK/g.log" ||
    fail "fake nvidia-smi: exit $? ($(cat "$WORK/g.log"))"
grep -q -- '--query-gpu=utilization.gpu,memory.used,power.draw,clocks.sm --format=csv,noheader,nounits -lms 100' \
    "$WORK/smi.args" || fail "nvidia-smi arguments: $(cat "$WORK/smi.args")"
! grep -q "nvidia-smi is not on PATH" "$WORK/g.log" || fail "said absent while present"
python3 - "$WORK/g" <<'PY' || fail "GPU samples"
import json, sys
for k in (1, 2):
    t = json.load(open(sys.argv[1] + "/uv/default/run_%d.json" % k))
    g = t["telemetry"]["gpu"]
    assert g["source"] == "nvidia-smi", g
    s = g["samples"]
    end = max(p["end_ns"] for p in t["phases"])
    inside = [x for x in s if 0 <= x["t_ns"] <= end]
    # 100 ms ticks over a run of > 1 s
    assert len(inside) >= 3, (len(s), end)
    assert all(40 <= x["util_pct"] <= 46 and x["mem_used_mib"] == 2345 and x["power_w"] is None
               and x["sm_clock_mhz"] == 1800 for x in s), s[:3]
print("gpu samples ok")
PY
# Host load per phase (issue 20 section 3): every phase carries the load
# average and the steal share; cpus is the machine's, ticks count.
python3 - "$WORK/g" "$(getconf _NPROCESSORS_ONLN)" <<'PY' || fail "host load per phase"
import json, sys
t = json.load(open(sys.argv[1] + "/uv/default/run_1.json"))
for p in t["phases"]:
    h = p["host"]
    assert h["cpus"] == int(sys.argv[2]), h
    assert 0 <= h["loadavg_1m_start"] < 100000 and 0 <= h["loadavg_1m"] < 100000, h
    assert h["stat_ticks"] >= 0 and (h["steal_pct"] is None or 0 <= h["steal_pct"] <= 100), h
conc = [p for p in t["phases"] if p["kind"] == "concurrent"][0]["host"]
# a phase of > 100 ms spans at least a few 10 ms ticks of every CPU
assert conc["stat_ticks"] > 0 and conc["steal_pct"] is not None, conc
print("host load ok")
PY
# The samples on analyze's timeline: a GPU block holding the fake's values
# (40..46 %), inside the drawn run's span.
if [ -n "${ANALYZE:-}" ] && command -v gnuplot >/dev/null; then
    "$ANALYZE" -q --charts "$WORK/ch" "$WORK/g" >/dev/null 2>"$WORK/an.log" || fail "analyze: $(cat "$WORK/an.log")"
    python3 - "$WORK/ch/timeline.dat" <<'PY' || fail "GPU utilisation on the timeline"
import sys
blocks = open(sys.argv[1]).read().split("\n\n\n")
(gpu,) = [b for b in blocks if "GPU utilisation (nvidia-smi)" in b]
vals = [float(l.split()[1]) for l in gpu.splitlines() if l and l[0] != "#"]
assert len(vals) >= 3 and all(40 <= v <= 46 for v in vals), vals
print("timeline gpu ok:", len(vals), "samples")
PY
    grep -q "axes x1y2 with filledcurves" "$WORK/ch/timeline.gp" || fail "timeline script draws no GPU curve"
fi
if ! command -v nvidia-smi >/dev/null; then
    "$COLLECT" --endpoint http://127.0.0.1:1 --emulate --time-scale 20 --agents 2 --prompt hi \
        --num-predict 10 --runs 2 --runtime uv --out "$WORK/a" 2>"$WORK/a.log" || fail "absent: exit $?"
    [ "$(grep -c 'nvidia-smi is not on PATH' "$WORK/a.log")" = 1 ] || fail "absence not said once"
    grep -q '"gpu":{"source":"absent","samples":\[\]}' "$WORK/a/uv/default/run_1.json" || fail "absent not recorded"
fi
rm -f "$WORK/smi.args"
PATH="$WORK/bin:$PATH" "$COLLECT" --endpoint http://127.0.0.1:1 --emulate --time-scale 20 --agents 2 \
    --prompt hi --num-predict 10 --runs 1 --runtime uv --out "$WORK/n" --no-nvidia-smi --quiet ||
    fail "--no-nvidia-smi: exit $?"
[ ! -e "$WORK/smi.args" ] || fail "--no-nvidia-smi ran it"
grep -q '"gpu":{"source":"off"' "$WORK/n/uv/default/run_1.json" || fail "off not recorded"
echo "telemetry: ok"
