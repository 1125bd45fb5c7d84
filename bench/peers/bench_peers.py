#!/usr/bin/python3
"""bench_peers: collect against the clients a user could write instead,
side by side (bench/peers/README.md). Run through bench/peers/run.sh.

For every repetition, every agent count N and every client in turn
(A B C D A B C D ...), it starts `ollama-emu --ideal --load 0` as its own
process with a --trace file (the ground truth: CLOCK_MONOTONIC of every chunk
it writes), runs the client with N agents streaming TOKENS tokens each, and
reads the client's own timestamps:
  efficiency    D_solo / wall, wall = last end - first start of the N agents,
                D_solo = the same client's duration with 1 agent (median of
                the reference runs): 100% = N agents cost no more than one
  CPU / 1k tok  user+system CPU of the client process (wait4, whole process:
                start-up included, as a user would pay it) per 1000 tokens
  streaming     the same for the streaming alone, as each client measured it
                with getrusage around its N requests (collect: the phase's
                collector_cpu record): start-up, preflight and output outside;
                in parentheses the part spent in the kernel (getrusage's
                system time, tick-granular)
  first / end   client time of the first token line / of the final line
                minus the emulator's write time of that line (p50 / p99 over
                every agent of every repetition)
  chunk         the same for every line, when the client records one time
                per emulator write (collect: per network chunk; skipped for a
                request whose chunks the kernel coalesced)
  peak RSS      ru_maxrss of the client (max over repetitions)
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = "Benchmark prompt."


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --pin: the server's CPUs and the clients' (None: the scheduler decides).
# The kernel wakes a socket's reader on its writer's CPU: unpinned, client
# and emulator often share one CPU while the other idles, and every client's
# timestamps then include the emulator's work. Pinned, the emulator stands
# for a server on its own hardware; every client is pinned the same way.
PIN_EMU = None
PIN_CLIENT = None


def pinned(cpus):
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


class Emulator:
    """ollama-emu --ideal in its own process, one instance, every agent decoding at once."""

    def __init__(self, binary, trace):
        self.trace = trace
        self.p = subprocess.Popen([binary, "--ideal", "--load", "0", "--listen", "127.0.0.1:0",
                                   "--num-parallel", "1024", "--max-queue", "4096",
                                   "--trace", trace, "--quiet"],
                                  stdout=subprocess.PIPE, text=True, preexec_fn=pinned(PIN_EMU))
        line = self.p.stdout.readline()
        if not line.startswith("listening "):
            raise SystemExit("bench_peers: %s did not start" % binary)
        self.url = line.split()[1]

    def stop(self):
        self.p.terminate()
        self.p.wait()
        truth = {}
        with open(self.trace) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                _, rid, idx, ns = line.split("\t")
                truth.setdefault(rid, {})[int(idx)] = int(ns)
        return truth


class Usage:
    def __init__(self, user, system, maxrss):
        self.ru_utime, self.ru_stime, self.ru_maxrss = user, system, maxrss


RUSAGE = None  # the peer_rusage launcher (see peer_rusage.c for why)


def run_child(argv, stdout_path):
    """Runs argv, stdout to a file; returns (exit code, its CPU and peak RSS)."""
    ufile = stdout_path + ".rusage"
    with open(stdout_path, "w") as out, open(stdout_path + ".err", "w") as err:
        subprocess.run([RUSAGE, ufile] + argv, stdout=out, stderr=err,
                       preexec_fn=pinned(PIN_CLIENT))
    with open(ufile) as f:
        rc, user, system, maxrss = f.read().split()
    return int(rc), Usage(float(user), float(system), int(maxrss))


def parse_peer(path):
    """The peers' shared format -> ({id: agent dict}, streaming CPU in us or None)."""
    agents = {}
    cpu = None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "R":
                cpu = (int(w[1]), int(w[3]))  # total, system
            elif w[0] == "A":
                agents[w[1]] = {"start": int(w[2]), "first": int(w[3]), "end": int(w[4]),
                                "tokens": int(w[5]), "lines": []}
            elif w[0] == "C":
                agents[w[1]]["lines"] = [int(x) for x in w[2:]]
    return agents, cpu


# collect --no-paired-seed: by default collect sends each agent an Ollama
# options.seed, and a seeded response may stop before num_predict (the
# emulator's natural length is ~300 tokens); the peers send no seed. Without
# it collect's streams were 300 tokens long and the peers' 400: not the same
# work.
def parse_collect(out_dir, rt):
    with open(os.path.join(out_dir, rt, "default", "run_1.json")) as f:
        t = json.load(f)
    origin = int(t["run"]["mono_origin_ns"])
    agents = {}
    cpu = None
    for ph in t["phases"]:
        if ph["kind"] != "concurrent":
            continue
        c = ph.get("collector_cpu")
        if c:
            cpu = (c["cpu_us"], c["system_us"])
        for r in ph["requests"]:
            agents[r["request_id"]] = {
                "start": origin + r["t_start_ns"],
                "first": origin + (r["t_first_token_ns"] or 0),
                "end": origin + r["t_end_ns"],
                "tokens": r["tokens"],
                "lines": [origin + c[0] for c in r["chunks"]],
            }
    return agents, cpu


class Client:
    def __init__(self, name, kind, argv_fn):
        self.name, self.kind, self.argv_fn = name, kind, argv_fn

    def run(self, url, n, tokens, work):
        out = os.path.join(work, "%s-%d" % (self.name, n))
        shutil.rmtree(out, ignore_errors=True)
        if self.kind == "collect":
            rt = self.name.split("-", 1)[1]
            plan = out + ".plan.json"
            with open(plan, "w") as f:
                json.dump({"name": "bench-peers", "runs": 1, "runtimes": [rt], "warmup": False,
                           "solo": False,
                           "agents": [{"id": "a", "count": n, "endpoint": url, "prompt": PROMPT,
                                       "model": "gemma3:latest",
                                       "options": {"num_predict": tokens}}]}, f)
            argv = self.argv_fn(plan, out)
            rc, ru = run_child(argv, out + ".stdout")
            agents, cpu = parse_collect(out, rt) if rc == 0 else ({}, None)
        else:
            rc, ru = run_child(self.argv_fn(url, n, tokens), out + ".stdout")
            agents, cpu = parse_peer(out + ".stdout") if rc == 0 else ({}, None)
        if rc != 0 or len(agents) != n:
            log("bench_peers: %s with %d agents failed (exit %d, %d agents); see %s*"
                % (self.name, n, rc, len(agents), out))
            return None, ru, None
        return agents, ru, cpu


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def measure(client, emu_bin, n, tokens, work, stats, dsolo):
    emu = Emulator(emu_bin, os.path.join(work, "emu.trace"))
    try:
        agents, ru, scpu = client.run(emu.url, n, tokens, work)
    finally:
        truth = emu.stop()
    if agents is None:
        return None
    short = [rid for rid, a in agents.items() if a["tokens"] != tokens]
    if short:
        # Every client must do the same work, or per-token figures mislead.
        log("bench_peers: %s, N = %d: %d of %d agents got a number of tokens other than %d"
            % (client.name, n, len(short), len(agents), tokens))
    wall = max(a["end"] for a in agents.values()) - min(a["start"] for a in agents.values())
    toks = sum(a["tokens"] for a in agents.values())
    s = stats.setdefault((client.name, n), {"eff": [], "cpu": [], "scpu": [], "ssys": [], "rss": [], "first": [], "end": [],
                                            "chunk": [], "unpaired": 0, "reps": 0})
    cpu = ru.ru_utime + ru.ru_stime
    if dsolo:
        s["eff"].append(dsolo / wall)
    s["cpu"].append(cpu / toks * 1000 * 1000)  # ms per 1000 tokens
    if scpu is not None:
        s["scpu"].append(scpu[0] / toks)         # us per token = ms per 1000 tokens
        s["ssys"].append(scpu[1] / toks)         # of which in the kernel
    s["rss"].append(ru.ru_maxrss / 1024)      # MiB
    s["reps"] += 1
    for rid, a in agents.items():
        g = truth.get(rid)
        if not g:
            s["unpaired"] += len(a["lines"])
            continue
        last = max(g)
        s["first"].append((a["first"] - g[1]) / 1000)
        s["end"].append((a["end"] - g[last]) / 1000)
        if len(a["lines"]) == last:
            s["chunk"].extend((t - g[i + 1]) / 1000 for i, t in enumerate(a["lines"]))
        else:
            s["unpaired"] += len(a["lines"])
    return (max(a["end"] for a in agents.values()) - min(a["start"] for a in agents.values()))


def fmt_us(x):
    return "%.0f us" % x if abs(x) < 1000 else "%.2f ms" % (x / 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the CMake build tree (collect, ollama-emu)")
    ap.add_argument("--peers-build", default=None, help="where run.sh built the Rust peer")
    ap.add_argument("--agents", default="2,16,64,128")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=400)
    ap.add_argument("--clients", default="collect-uv,collect-threads,tokio-current,tokio-multi,httpx")
    ap.add_argument("--keep", default=None, help="keep the raw outputs in this folder")
    ap.add_argument("--pin", choices=["auto", "on", "off"], default="auto",
                    help="emulator on the last allowed CPU, every client on the others "
                         "(auto: on with 2 CPUs or more)")
    o = ap.parse_args()

    global RUSAGE, PIN_EMU, PIN_CLIENT
    allowed = sorted(os.sched_getaffinity(0))
    if o.pin == "on" and len(allowed) < 2:
        raise SystemExit("bench_peers: --pin on needs 2 CPUs, this process may use %d" % len(allowed))
    if o.pin == "on" or (o.pin == "auto" and len(allowed) >= 2):
        PIN_EMU, PIN_CLIENT = {allowed[-1]}, set(allowed[:-1])
    RUSAGE = os.path.join(o.build, "bench", "peers", "peer_rusage")
    collect = os.path.join(o.build, "collector", "collect")
    emu_bin = os.path.join(o.build, "emulator", "ollama-emu")
    tokio = os.path.join(o.peers_build or os.path.join(o.build, "peers"), "rust", "release", "peer-tokio")
    known = {
        "collect-uv": (os.access(collect, os.X_OK), Client("collect-uv", "collect",
            lambda plan, out: [collect, "--plan", plan, "--out", out, "--quiet", "--runs", "1",
                               "--no-paired-seed"])),
        "collect-threads": (os.access(collect, os.X_OK), Client("collect-threads", "collect",
            lambda plan, out: [collect, "--plan", plan, "--out", out, "--quiet", "--runs", "1",
                               "--no-paired-seed"])),
        "tokio-current": (os.access(tokio, os.X_OK), Client("tokio-current", "peer",
            lambda url, n, t: [tokio, url, str(n), str(t), "current", PROMPT])),
        "tokio-multi": (os.access(tokio, os.X_OK), Client("tokio-multi", "peer",
            lambda url, n, t: [tokio, url, str(n), str(t), "multi", PROMPT])),
        "httpx": (subprocess.run(["/usr/bin/python3", "-c", "import httpx"],
                                 capture_output=True).returncode == 0,
                  Client("httpx", "peer", lambda url, n, t: ["/usr/bin/python3",
                         os.path.join(HERE, "peer_httpx.py"), url, str(n), str(t), PROMPT])),
    }
    clients = []
    for name in o.clients.split(","):
        if name not in known:
            raise SystemExit("bench_peers: unknown client %s (known: %s)" % (name, ", ".join(known)))
        ok, c = known[name]
        if ok:
            clients.append(c)
        else:
            log("bench_peers: %s not available (not built or not installed): left out" % name)
    if not os.access(emu_bin, os.X_OK):
        raise SystemExit("bench_peers: %s missing: build the tree first" % emu_bin)
    ns = [int(x) for x in o.agents.split(",")]
    work = o.keep or tempfile.mkdtemp(prefix="bench_peers.")
    os.makedirs(work, exist_ok=True)

    load0 = os.getloadavg()
    t0 = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    # Solo references (N = 1) for the efficiency, interleaved too.
    solo = {c.name: [] for c in clients}
    ref = {}
    for _ in range(2):
        for c in clients:
            d = measure(c, emu_bin, 1, o.tokens, work, ref, None)
            if d:
                solo[c.name].append(d)
    dsolo = {k: statistics.median(v) for k, v in solo.items() if v}
    stats = {}
    for rep in range(o.reps):
        for n in ns:
            for c in clients:
                log("bench_peers: rep %d/%d, N = %d, %s (load %.2f)" % (rep + 1, o.reps, n, c.name,
                                                                      os.getloadavg()[0]))
                measure(c, emu_bin, n, o.tokens, work, stats, dsolo.get(c.name))
    load1 = os.getloadavg()

    pin = ("emulator on CPU %s, clients on CPU %s" % (
        ",".join(map(str, sorted(PIN_EMU))), ",".join(map(str, sorted(PIN_CLIENT))))
           if PIN_EMU else "not pinned")
    print("bench_peers %s: ideal ollama-emu (own process, --load 0), %d tokens per request, "
          "%d interleaved repetitions, %d CPUs (%s), load average %.2f at start, %.2f at end"
          % (t0, o.tokens, o.reps, os.cpu_count(), pin, load0[0], load1[0]))
    print()
    print("| client | N | efficiency | CPU per 1k tokens | streaming CPU per 1k tokens (kernel) | "
          "end error p50 / p99 | first-token error p50 / p99 | chunk error p50 / p99 | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in ns:
        for c in clients:
            s = stats.get((c.name, n))
            if not s or not s["reps"]:
                print("| %s | %d | failed | | | | | | |" % (c.name, n))
                continue
            eff = "%.2f%%" % (100 * statistics.median(s["eff"])) if s["eff"] else "-"
            chunk = ("%s / %s" % (fmt_us(pct(s["chunk"], .5)), fmt_us(pct(s["chunk"], .99)))
                     if s["chunk"] else "unpaired")
            scpu = ("%.1f ms (%.1f)" % (statistics.median(s["scpu"]), statistics.median(s["ssys"]))
                    if s["scpu"] else "-")
            print("| %s | %d | %s | %.1f ms | %s | %s / %s | %s / %s | %s | %.1f MiB |" % (
                c.name, n, eff, statistics.median(s["cpu"]), scpu,
                fmt_us(pct(s["end"], .5)), fmt_us(pct(s["end"], .99)),
                fmt_us(pct(s["first"], .5)), fmt_us(pct(s["first"], .99)),
                chunk, max(s["rss"])))
    print()
    print("parbench / peer ratios (CPU per token: whole process, streaming alone; end-of-stream p99, "
          "first-token p99; < 1: parbench leaner):")
    pairs = [("collect-uv", "tokio-current"), ("collect-threads", "tokio-multi"),
             ("collect-uv", "httpx")]
    for n in ns:
        for a, b in pairs:
            sa, sb = stats.get((a, n)), stats.get((b, n))
            if not sa or not sb or not sa["reps"] or not sb["reps"]:
                continue
            def r(x, y):
                return "%.2f" % (x / y) if y else "-"
            sc = (r(statistics.median(sa["scpu"]), statistics.median(sb["scpu"]))
                  if sa["scpu"] and sb["scpu"] else "-")
            print("  N = %3d  %-15s / %-13s  CPU %s  streaming %s  end p99 %s  first p99 %s" % (
                n, a, b, r(statistics.median(sa["cpu"]), statistics.median(sb["cpu"])), sc,
                r(pct(sa["end"], .99), pct(sb["end"], .99)),
                r(pct(sa["first"], .99), pct(sb["first"], .99))))
    print()
    print("raw outputs in %s" % work if o.keep else "")
    if not o.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
